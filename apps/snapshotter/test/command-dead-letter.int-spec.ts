/**
 * The snapshotter reads `tidemark.commands` too (TAKE/VERIFY/DELETE_SNAPSHOT, TERMINATE). Against the real Kafka,
 * backup-side MongoDB and S3, in-process with a topic prefix and databases of its own: a command that cannot be
 * decoded lands on `tidemark.commands.dlq` with the reason (the bus's one rule, `CommittingConsumer`), and the
 * snapshotter goes on to the command after it on the same partition (committed past it; /readyz stays 200).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { createKafka, DLQ_HEADERS, producerFor, publish, resolveTopics } from '@tidemark/bus';
import { TestKafka } from '@tidemark/bus-testing';
import { resolveEndpoints } from '@tidemark/config';
import type { RunningService } from '@tidemark/service-shell';
import { getJson, until } from '@tidemark/testing';
import { startSnapshotter } from '../src/snapshotter-service';

const suffix = randomBytes(4).toString('hex');
const prefix = `it-snapdlq-${suffix}`;
const metaDb = `tidemark_meta_sndlq_${suffix}`;
const snapshotDb = `tidemark_snap_dlq_${suffix}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: '0',
  TIDEMARK_TOPIC_PREFIX: prefix,
  TIDEMARK_META_DB: metaDb,
  TIDEMARK_OPLOG_STORE_DB: `tidemark_os_sndlq_${suffix}`,
  TIDEMARK_SNAPSHOT_DB: snapshotDb,
  TIDEMARK_SNAPSHOT_S3_PREFIX: `it-dlq-${suffix}`,
  TIDEMARK_SNAPSHOT_TICK_MS: '3600000',
};
const endpoints = resolveEndpoints(env);
const topics = resolveTopics({ prefix, env });
const group = `${prefix}.tidemark-snapshotter`;

describe('snapshotter: an undecodable command (real Kafka, MongoDB, S3)', () => {
  let snapshotter: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let bus: TestKafka;

  before(async () => {
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `${prefix}-spec` });
    producer = producerFor(kafka);
    await producer.connect();
    bus = new TestKafka(endpoints.kafka.brokers, prefix);
    snapshotter = await startSnapshotter({ env });
  });

  after(async () => {
    await snapshotter?.app.close();
    await producer?.disconnect();
    await bus?.cleanup([group]); // and every topic of the prefix
    const backup = await MongoClient.connect(endpoints.backup.uri);
    for (const db of [metaDb, snapshotDb, env['TIDEMARK_OPLOG_STORE_DB']!])
      await backup.db(db).dropDatabase();
    await backup.close();
  });

  it('dead-letters it with the reason and goes on to the next command', async () => {
    const dlq = await bus.reader(topics.commandsDlq);
    const jobId = `snapdlq${suffix.slice(0, 1)}`;
    const [sent] = await producer.send({
      topic: topics.commands.name,
      acks: -1,
      messages: [{ key: jobId, value: Buffer.from('not a JobCommand') }],
    });
    // The next command on the same partition (same key): a STOP, which the snapshotter leaves to the agent.
    const next = await publish(producer, topics.commands, {
      commandId: `after-garbage-${suffix}`,
      jobId,
      action: 'STOP',
      issuedAt: new Date(),
      params: {},
    });
    const letter = await until('the dead letter', () => dlq.messages[0]);
    assert.equal(letter.key?.toString(), jobId, 'the original key is kept');
    assert.equal(letter.value?.toString(), 'not a JobCommand', 'the original bytes are kept');
    const header = (name: string): string | undefined => letter.headers?.[name]?.toString();
    assert.match(header(DLQ_HEADERS.reason) ?? '', /^undecodable: .*bad-marker/);
    assert.equal(header(DLQ_HEADERS.sourceTopic), topics.commands.name);
    assert.equal(header(DLQ_HEADERS.sourceOffset), sent!.baseOffset);

    const admin = kafka.admin();
    await admin.connect();
    try {
      await until('the snapshotter to commit past the next command', async () => {
        const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topics.commands.name] });
        const committed = entry?.partitions.find((p) => p.partition === next.partition)?.offset;
        return committed !== undefined && BigInt(committed) > BigInt(next.baseOffset ?? next.offset ?? '0');
      });
    } finally {
      await admin.disconnect();
    }
    assert.equal((await getJson(`${snapshotter.url}/readyz`)).status, 200, 'no partition halted');
  });
});
