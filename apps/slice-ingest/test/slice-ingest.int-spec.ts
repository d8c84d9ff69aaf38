/**
 * slice-ingest against real Kafka and the backup-side MongoDB (FerretDB), booted in-process exactly as
 * `main.ts` boots it, with a topic prefix and an oplog store database of its own per test. Proves:
 * - valid initial, oplog and catalog slices are stored exactly once and each gets a SliceStored claim check;
 *   the same slice published again is still stored once;
 * - a slice with a flipped payload byte and a non-Avro message land on their topic's dead-letter topic with a
 *   `tidemark-dlq-reason` naming the problem, raise AlertRaised{SLICE_REJECTED}, and store nothing;
 * - a crash after the slice is stored and before the offset is committed halts the partition (readiness 503 with
 *   the reason); after a restart the slice is redelivered, committed, and still stored once;
 * - a retriable failure before the commit redelivers the message after a backoff, without halting.
 * Offsets are checked in Kafka: a test waits until the group's committed offsets reach the end of both topics.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { DLQ_HEADERS, publish, resolveTopics, type Topic, type Topics } from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { TidemarkError } from '@tidemark/domain';
import { MongoOplogStore } from '@tidemark/oplog-store';
import type { RunningService } from '@tidemark/service-shell';
import { TestKafka, type TopicReader } from '@tidemark/bus-testing';
import { getJson, until, type HttpAnswer } from '@tidemark/testing';
import type { SliceIngestHooks } from '../src/ingest/slice-ingest-handler';
import { startSliceIngest } from '../src/slice-ingest-service';
import {
  catalogSlice,
  flipByte,
  initialSlice,
  largeSlice,
  oplogSlice,
  recordOf,
  type TestSlice,
} from './slice-fixtures';

const endpoints = resolveEndpoints();
const JOB = 'ingest01';

/** Everything one test owns: its topics, consumer group, oplog store database, clients and the running app. */
class Harness {
  readonly suffix = randomBytes(4).toString('hex');
  readonly prefix = `it-ingest-${this.suffix}`;
  readonly storeDb = `tidemark_oplogstore_it_${this.suffix}`;
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    TIDEMARK_TOPIC_PREFIX: this.prefix,
    TIDEMARK_OPLOG_STORE_DB: this.storeDb,
    TIDEMARK_META_DB: `tidemark_meta_it_${this.suffix}`,
    TIDEMARK_TOPIC_PARTITIONS: 'slices=3,control=1,dead-letter=1',
    TIDEMARK_INGEST_RETRY_INITIAL_MS: '200',
    TIDEMARK_INGEST_RETRY_MAX_MS: '1000',
  };
  readonly topics: Topics = resolveTopics({ prefix: this.prefix, env: this.env });
  readonly groupId = `${this.prefix}.tidemark-slice-ingest`;
  readonly bus = new TestKafka(endpoints.kafka.brokers, this.prefix);
  app: RunningService | undefined;
  private mongo: MongoClient | undefined;

  async start(hooks?: SliceIngestHooks): Promise<RunningService> {
    this.app = await startSliceIngest({ env: this.env, ...(hooks === undefined ? {} : { hooks }) });
    return this.app;
  }

  async stop(): Promise<void> {
    await this.app?.app.close();
    this.app = undefined;
  }

  async send(topic: Topic & { value: 'tidemark.slices.SliceProduced' }, slice: TestSlice, payload?: Buffer) {
    const record = recordOf(slice, payload);
    await publish(await this.bus.producer(), topic, record);
  }

  async sendRaw(topic: Topic, key: string, value: Buffer): Promise<void> {
    await (await this.bus.producer()).send({ topic: topic.name, acks: -1, messages: [{ key, value }] });
  }

  /** The oplog store's `slices` documents of this test, by slice id. */
  async storedSliceIds(): Promise<string[]> {
    this.mongo ??= await MongoClient.connect(endpoints.backup.uri);
    const docs = await this.mongo.db(this.storeDb).collection<{ _id: string }>('slices').find({}).toArray();
    return docs.map((d) => d._id).sort();
  }

  /** A stored slice's payload, read back through the oplog store itself. */
  async storedPayload(sliceId: string): Promise<Buffer> {
    this.mongo ??= await MongoClient.connect(endpoints.backup.uri);
    const got = await new MongoOplogStore(this.mongo, this.storeDb).get(sliceId);
    assert.ok(got, `slice ${sliceId} is stored`);
    return got.payload;
  }

  async chunkCount(sliceId: string): Promise<number> {
    this.mongo ??= await MongoClient.connect(endpoints.backup.uri);
    return this.mongo.db(this.storeDb).collection('slice_chunks').countDocuments({ s: sliceId });
  }

  /** Committed offset of the group per partition of `topic` (-1 = none), and the topic's end offsets. */
  async offsets(topic: Topic): Promise<{ committed: Map<number, bigint>; end: Map<number, bigint> }> {
    const admin = this.bus.kafka.admin();
    await admin.connect();
    try {
      const [group] = await admin.fetchOffsets({ groupId: this.groupId, topics: [topic.name] });
      const ends = await admin.fetchTopicOffsets(topic.name);
      return {
        committed: new Map((group?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)])),
        end: new Map(ends.map((p) => [p.partition, BigInt(p.high)])),
      };
    } finally {
      await admin.disconnect();
    }
  }

  /** True when the group committed every message of `topic` (an empty partition needs no commit). */
  async caughtUp(topic: Topic): Promise<boolean> {
    const { committed, end } = await this.offsets(topic);
    return [...end].every(([p, high]) => high === 0n || committed.get(p) === high);
  }

  readyz(): Promise<HttpAnswer<Record<string, unknown>>> {
    return getJson(`${this.app!.url}/readyz`);
  }

  async cleanup(): Promise<void> {
    await this.stop().catch(() => undefined);
    await this.bus.cleanup([this.groupId]);
    this.mongo ??= await MongoClient.connect(endpoints.backup.uri);
    await this.mongo.db(this.storeDb).dropDatabase();
    await this.mongo.close();
  }
}

const claimChecks = (reader: TopicReader) => reader.records('tidemark.slices.SliceStored');
const raisedAlerts = (reader: TopicReader) => reader.records('tidemark.alerts.AlertRaised');

function header(message: KafkaMessage, name: string): string | undefined {
  const v = message.headers?.[name];
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

const count = <T>(items: T[], pred: (x: T) => boolean) => items.filter(pred).length;

describe('slice-ingest against real Kafka and the backup MongoDB', () => {
  const harnesses: Harness[] = [];
  const harness = () => {
    const h = new Harness();
    harnesses.push(h);
    return h;
  };
  after(async () => {
    for (const h of harnesses) await h.cleanup();
  });

  it('stores initial, oplog and catalog slices exactly once and publishes a SliceStored for each', async () => {
    const h = harness();
    await h.start();
    const stored = await h.bus.reader(h.topics.slicesStored);
    const initial = initialSlice(JOB, 'shop.orders', 0);
    const oplog = oplogSlice(JOB, { t: 1_700_000_000, i: 1 }, { t: 1_700_000_050, i: 3 });
    const catalog = catalogSlice(JOB, ['shop.orders', 'shop.media']);
    const large = largeSlice(JOB, 'shop.media', 0); // ~16.4 MiB incompressible: the 18 MiB fetch size, chunked storage

    await h.send(h.topics.slicesInitial, initial);
    await h.send(h.topics.slicesInitial, large);
    await h.send(h.topics.slicesOplog, oplog);
    await h.send(h.topics.slicesInitial, catalog);
    await until('four claim checks', () => claimChecks(stored).length >= 4);
    await h.send(h.topics.slicesInitial, initial); // the same slice again (an agent retry)
    await until('the duplicate claim check', () => claimChecks(stored).length >= 5);
    await until(
      'offsets committed to the end of both topics',
      async () => (await h.caughtUp(h.topics.slicesInitial)) && (await h.caughtUp(h.topics.slicesOplog)),
    );

    const ids = [initial, large, oplog, catalog].map((s) => s.meta.sliceId).sort();
    assert.deepEqual(await h.storedSliceIds(), ids, 'each slice stored exactly once');
    for (const s of [initial, oplog, catalog]) assert.equal(await h.chunkCount(s.meta.sliceId), 1);
    assert.equal(await h.chunkCount(large.meta.sliceId), 5, '16.4 MiB in chunks of at most 4 MiB');
    assert.ok(
      (await h.storedPayload(large.meta.sliceId)).equals(large.payload),
      'large payload stored byte for byte',
    );

    const claims = claimChecks(stored);
    assert.equal(
      count(claims, (c) => c.sliceId === initial.meta.sliceId),
      2,
      'claim check repeated for the duplicate',
    );
    const oplogClaim = claims.find((c) => c.sliceId === oplog.meta.sliceId);
    assert.ok(oplogClaim);
    assert.equal(oplogClaim.kind, 'OPLOG');
    assert.equal(oplogClaim.prevTs, (1_700_000_000n << 32n) | 1n);
    assert.equal(oplogClaim.firstTs, (1_700_000_000n << 32n) | 2n);
    assert.equal(oplogClaim.lastTs, (1_700_000_050n << 32n) | 3n);
    assert.equal(oplogClaim.docCount, 2n);
    const catalogClaim = claims.find((c) => c.sliceId === catalog.meta.sliceId);
    assert.equal(catalogClaim?.kind, 'CATALOG');
    assert.equal(catalogClaim?.origin, 'SCAN');
    const initialClaim = claims.find((c) => c.sliceId === initial.meta.sliceId);
    assert.equal(initialClaim?.namespace, 'shop.orders');
    assert.equal(initialClaim?.compressedBytes, BigInt(initial.meta.compressedBytes));
    assert.equal(stored.messages[0]?.key?.toString(), JOB, 'claim checks are keyed by job id');

    assert.equal((await h.readyz()).status, 200);
  });

  it('dead-letters a slice with a flipped payload byte and a non-Avro message, raises SLICE_REJECTED, stores nothing', async () => {
    const h = harness();
    await h.start();
    const initialDlq = await h.bus.reader(h.topics.slicesInitialDlq);
    const oplogDlq = await h.bus.reader(h.topics.slicesOplogDlq);
    const alerts = await h.bus.reader(h.topics.alerts);
    const bad = initialSlice(JOB, 'shop.orders', 7);

    await h.send(h.topics.slicesInitial, bad, flipByte(bad.payload));
    await h.sendRaw(h.topics.slicesOplog, JOB, Buffer.from('{"not":"avro"}'));
    await until('two dead letters', () => initialDlq.messages.length >= 1 && oplogDlq.messages.length >= 1);
    await until('two alerts', () => raisedAlerts(alerts).length >= 2);
    await until(
      'offsets committed past the rejected messages',
      async () => (await h.caughtUp(h.topics.slicesInitial)) && (await h.caughtUp(h.topics.slicesOplog)),
    );

    const checksum = initialDlq.messages[0]!;
    assert.match(
      header(checksum, DLQ_HEADERS.reason) ?? '',
      /bad slice payload: SliceChecksumError: .*checksum mismatch/,
    );
    assert.equal(header(checksum, DLQ_HEADERS.sourceTopic), h.topics.slicesInitial.name);
    assert.equal(checksum.key?.toString(), `${JOB}/shop.orders`, 'the dead letter keeps the original key');
    const garbage = oplogDlq.messages[0]!;
    assert.match(
      header(garbage, DLQ_HEADERS.reason) ?? '',
      /undecodable message: .*not Avro single-object encoding/,
    );
    assert.equal(garbage.value?.toString(), '{"not":"avro"}', 'the dead letter keeps the original bytes');

    const raised = raisedAlerts(alerts);
    assert.ok(
      raised.every((a) => a.code === 'SLICE_REJECTED' && a.severity === 'CRITICAL' && a.jobId === JOB),
    );
    const checksumAlert = raised.find((a) => a.context['topic'] === h.topics.slicesInitial.name);
    assert.ok(checksumAlert);
    assert.equal(checksumAlert.context['sliceId'], bad.meta.sliceId);
    assert.equal(checksumAlert.context['offset'], header(checksum, DLQ_HEADERS.sourceOffset));
    assert.equal(checksumAlert.context['partition'], header(checksum, DLQ_HEADERS.sourcePartition));
    assert.match(checksumAlert.context['reason'] ?? '', /checksum mismatch/);
    const garbageAlert = raised.find((a) => a.context['topic'] === h.topics.slicesOplog.name);
    assert.ok(garbageAlert);
    assert.equal(garbageAlert.context['sliceId'], undefined);
    assert.match(garbageAlert.context['reason'] ?? '', /undecodable/);

    assert.deepEqual(await h.storedSliceIds(), [], 'nothing stored for rejected messages');
    assert.equal(await h.chunkCount(bad.meta.sliceId), 0);
  });

  it('a crash after storing and before committing halts the partition; after a restart the slice is still stored once', async () => {
    const h = harness();
    const slice = oplogSlice(JOB, { t: 1_700_000_100, i: 1 }, { t: 1_700_000_200, i: 1 });
    let crashes = 0;
    await h.start({
      beforeCommit: (message, outcome) => {
        if (outcome.kind !== 'rejected' && outcome.meta.sliceId === slice.meta.sliceId && crashes++ === 0) {
          throw new Error('simulated crash between store and commit');
        }
      },
    });
    const stored = await h.bus.reader(h.topics.slicesStored);
    await h.send(h.topics.slicesOplog, slice);

    const notReady = await until('readiness to report the halted partition', async () => {
      const r = await h.readyz();
      return r.status === 503 ? r : undefined;
    });
    assert.match(
      String(notReady.body['reason']),
      /pipeline: halted .*simulated crash between store and commit/,
    );
    assert.deepEqual(await h.storedSliceIds(), [slice.meta.sliceId], 'stored before the crash');
    assert.equal(await h.caughtUp(h.topics.slicesOplog), false, 'offset not committed');

    await h.stop(); // the "kill"
    await h.start(); // a fresh process: same group, same store
    await until('the redelivered message committed', () => h.caughtUp(h.topics.slicesOplog));
    await until('a second claim check', () => claimChecks(stored).length >= 2);
    assert.deepEqual(await h.storedSliceIds(), [slice.meta.sliceId], 'still stored exactly once');
    assert.equal(await h.chunkCount(slice.meta.sliceId), 1);
    assert.ok(claimChecks(stored).every((c) => c.sliceId === slice.meta.sliceId));
    assert.equal((await h.readyz()).status, 200);
  });

  it('a retriable failure before the commit redelivers the message after a backoff, without halting', async () => {
    const h = harness();
    const slice = initialSlice(JOB, 'shop.customers', 0);
    let attempts = 0;
    await h.start({
      beforeCommit: () => {
        if (attempts++ === 0) throw new TidemarkError('simulated broker blip', { retriable: true });
      },
    });
    const stored = await h.bus.reader(h.topics.slicesStored);
    await h.send(h.topics.slicesInitial, slice);
    await until('the message committed after the retry', () => h.caughtUp(h.topics.slicesInitial));
    assert.equal(attempts, 2, 'delivered twice: the failed attempt and the redelivery');
    await until('two claim checks', () => claimChecks(stored).length >= 2);
    assert.deepEqual(await h.storedSliceIds(), [slice.meta.sliceId]);
    assert.equal((await h.readyz()).status, 200);
  });
});
