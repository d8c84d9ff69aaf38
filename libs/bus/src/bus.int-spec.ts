/**
 * The bus against the real Kafka broker (KAFKA_BROKERS or the infra state file): topics created with their
 * declared configs, records encoded, sent, fetched and decoded intact (a snapshot event through its publisher), a
 * ~10 MiB incompressible slice included,
 * dead letters with their headers, and a too-low max.message.bytes raised without losing other overrides.
 * Every run uses its own topic prefix and deletes its topics at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { ConfigResourceTypes, type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { resolveEndpoints } from '@tidemark/config';
import { deleteTopics, describeTopicConfigs, ensureTopics } from './admin';
import { SingleObjectDecodeError } from './bus-errors';
import { defaultCodec } from './codec';
import { deadLetter, DLQ_HEADERS } from './dead-letter';
import { consumerFor, createKafka, producerFor, publish } from './kafka';
import { KafkaSnapshotEventPublisher, snapshotEventOf } from './snapshot-mapping';
import { plain } from './testdata/plain';
import { resolveTopics, topicList, type Topic } from './topics';
import type { PhaseChanged, SliceProduced, SnapshotEvent as SnapshotEventRecord } from './types';

const prefix = `it-bus-${crypto.randomBytes(4).toString('hex')}`;
const topics = resolveTopics({ prefix, env: {} });
const codec = defaultCodec();
const MiB = 1024 * 1024;

interface Delivered {
  partition: number;
  message: KafkaMessage;
}

/** Reads `topic` from the beginning with a fresh consumer group until `count` messages arrived. */
async function consume(kafka: Kafka, topic: Topic, count = 1, timeoutMs = 60_000): Promise<Delivered[]> {
  const consumer: Consumer = consumerFor(kafka, {
    groupId: `${prefix}-${crypto.randomBytes(3).toString('hex')}`,
    topics: [topic],
  });
  const got: Delivered[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${count} message(s) on ${topic.name} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            got.push({ partition, message });
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

function header(message: KafkaMessage, name: string): string | undefined {
  const v = message.headers?.[name];
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

describe('bus against the real Kafka broker', () => {
  let kafka: Kafka;
  let producer: Producer;
  const extraTopics: string[] = [];

  before(async () => {
    kafka = createKafka({ brokers: resolveEndpoints().kafka.brokers, clientId: `${prefix}-client` });
    const report = await ensureTopics(kafka, topicList(topics));
    assert.deepEqual(
      report.created.sort(),
      topicList(topics)
        .map((t) => t.name)
        .sort(),
    );
    assert.deepEqual(report.warnings, []);
    producer = producerFor(kafka);
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    if (kafka !== undefined)
      await deleteTopics(kafka, [...topicList(topics).map((t) => t.name), ...extraTopics]);
  });

  it('created every topic with its declared partitions, max.message.bytes, retention and cleanup policy', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const configs = await describeTopicConfigs(
        admin,
        topicList(topics).map((t) => t.name),
      );
      const metadata = await admin.fetchTopicMetadata({ topics: topicList(topics).map((t) => t.name) });
      for (const t of topicList(topics)) {
        const entries = configs.get(t.name) ?? [];
        const value = (name: string) => entries.find((e) => e.configName === name)?.configValue;
        assert.equal(value('max.message.bytes'), String(t.maxMessageBytes), `${t.name} max.message.bytes`);
        assert.equal(value('retention.ms'), String(t.retentionMs), `${t.name} retention.ms`);
        assert.equal(value('cleanup.policy'), t.cleanupPolicy, `${t.name} cleanup.policy`);
        assert.equal(
          metadata.topics.find((m) => m.name === t.name)?.partitions.length,
          t.partitions,
          `${t.name} partitions`,
        );
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('ensureTopics is idempotent: a second run finds everything in place', async () => {
    const report = await ensureTopics(kafka, topicList(topics));
    assert.deepEqual(report.created, []);
    assert.deepEqual(report.altered, []);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.existing.length, topicList(topics).length);
  });

  it('publishes a PhaseChanged and reads it back decoded, on the partition of its job key', async () => {
    const record: PhaseChanged = {
      jobId: 'job-it-1',
      syncId: 'sync-1',
      phase: 'TRANSFERRING',
      stage: 'head-builder',
      progress: {
        docsCopied: 42n,
        docsTotal: 100n,
        bytesCopied: 4096n,
        bytesTotal: null,
        namespaces: [
          {
            namespace: 'shop.orders',
            docsCopied: 42n,
            docsTotal: 100n,
            bytesCopied: 4096n,
            bytesTotal: null,
          },
        ],
      },
      appliedTs: null,
      sourceTs: null,
      details: {},
      at: new Date(),
    };
    const meta = await publish(producer, topics.phases, record);
    const [got] = await consume(kafka, topics.phases);
    assert.ok(got);
    assert.equal(got.partition, meta.partition);
    assert.equal(got.message.key?.toString(), 'job-it-1');
    const decoded = codec.decodeAs(
      'tidemark.phases.PhaseChanged',
      got.message.value as Buffer,
      topics.phases.name,
    );
    assert.deepEqual(plain(decoded), record);
  });

  it('publishes a snapshot event through KafkaSnapshotEventPublisher, keyed by its job, and reads it back', async () => {
    const event = {
      event: 'completed' as const,
      jobId: 'jobit2',
      snapshotId: 'snap-it-1',
      syncId: 'jobit2-s1',
      store: 'filesystem' as const,
      opTime: { t: 1_700_000_000, i: 5 },
      takenAt: new Date('2026-12-03T10:00:00.000Z'),
      completedAt: new Date('2026-12-03T10:00:04.000Z'),
      logicalBytes: 1_048_576,
      storedBytes: 65_536,
      namespaceCount: 2,
      documentCount: 1_000,
      manifestChecksum: 'd'.repeat(64),
      requestId: 'req-it-1',
      at: new Date('2026-12-03T10:00:04.500Z'),
    };
    await new KafkaSnapshotEventPublisher(producer, topics.snapshots).publish(event);
    const [got] = await consume(kafka, topics.snapshots);
    assert.ok(got);
    assert.equal(got.message.key?.toString(), 'jobit2');
    const decoded = codec.decodeAs(
      'tidemark.snapshots.SnapshotEvent',
      got.message.value as Buffer,
      topics.snapshots.name,
    );
    assert.deepEqual(snapshotEventOf(decoded as SnapshotEventRecord), event);
  });

  it('carries a ~10 MiB incompressible slice intact (checksum equal)', async () => {
    const payload = crypto.randomBytes(10 * MiB);
    const checksum = crypto.createHash('sha256').update(payload).digest('hex');
    const record: SliceProduced = {
      jobId: 'job-it-2',
      syncId: 'sync-1',
      sliceId: 'job-it-2/sync-1/oplog/0',
      kind: 'OPLOG',
      origin: null,
      sequence: 0n,
      namespace: null,
      prevTs: (1_700_000_000n << 32n) | 0n,
      firstTs: (1_700_000_000n << 32n) | 1n,
      lastTs: (1_700_000_050n << 32n) | 9n,
      docCount: 5000n,
      rawBytes: BigInt(payload.length),
      compressedBytes: BigInt(payload.length),
      codec: 'NONE',
      checksum,
      producedAt: new Date(),
      payload,
    };
    await publish(producer, topics.slicesOplog, record);
    const [got] = await consume(kafka, topics.slicesOplog);
    assert.ok(got);
    assert.ok((got.message.value?.length ?? 0) > 10 * MiB);
    const decoded = codec.decodeAs(
      'tidemark.slices.SliceProduced',
      got.message.value as Buffer,
      topics.slicesOplog.name,
    );
    assert.equal(crypto.createHash('sha256').update(decoded.payload).digest('hex'), checksum);
    assert.equal(decoded.checksum, checksum);
    assert.ok(decoded.payload.equals(payload));
    assert.equal(decoded.lastTs, record.lastTs);
  });

  it('dead-letters an undecodable message: same key and bytes, original headers, reason and source position', async () => {
    const garbage = Buffer.from('{"not":"avro"}');
    await producer.send({
      topic: topics.slicesInitial.name,
      acks: -1,
      messages: [{ key: 'job-it-3/shop.orders', value: garbage, headers: { 'x-trace': 'abc' } }],
    });
    const [got] = await consume(kafka, topics.slicesInitial);
    assert.ok(got);
    let reason = '';
    try {
      codec.decodeAs('tidemark.slices.SliceProduced', got.message.value as Buffer, topics.slicesInitial.name);
      assert.fail('garbage decoded');
    } catch (err) {
      assert.ok(err instanceof SingleObjectDecodeError && err.failure === 'bad-marker');
      reason = err.message;
    }
    await deadLetter(producer, topics.slicesInitial, got, reason);
    const [dead] = await consume(kafka, topics.slicesInitialDlq);
    assert.ok(dead);
    assert.equal(dead.message.key?.toString(), 'job-it-3/shop.orders');
    assert.ok(dead.message.value?.equals(garbage));
    assert.equal(header(dead.message, 'x-trace'), 'abc');
    assert.equal(header(dead.message, DLQ_HEADERS.reason), reason);
    assert.equal(header(dead.message, DLQ_HEADERS.sourceTopic), topics.slicesInitial.name);
    assert.equal(header(dead.message, DLQ_HEADERS.sourcePartition), String(got.partition));
    assert.equal(header(dead.message, DLQ_HEADERS.sourceOffset), got.message.offset);
    assert.equal(header(dead.message, DLQ_HEADERS.sourceTimestamp), got.message.timestamp);
  });

  it('raises a too-low max.message.bytes of an existing topic and keeps its other overrides', async () => {
    const name = `${prefix}.legacy-slices`;
    extraTopics.push(name);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: name,
            numPartitions: topics.slicesOplog.partitions,
            configEntries: [
              { name: 'max.message.bytes', value: String(MiB) },
              { name: 'retention.ms', value: String(topics.slicesOplog.retentionMs) },
              { name: 'segment.bytes', value: String(64 * MiB) },
            ],
          },
        ],
      });
      const legacy: Topic = { ...topics.slicesOplog, name };
      const report = await ensureTopics(kafka, [legacy]);
      assert.deepEqual(report.altered, [{ topic: name, from: MiB, to: topics.slicesOplog.maxMessageBytes }]);
      assert.deepEqual(report.warnings, []);
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name }],
      });
      const entries = resources[0]?.configEntries ?? [];
      const value = (n: string) => entries.find((e) => e.configName === n)?.configValue;
      assert.equal(value('max.message.bytes'), String(topics.slicesOplog.maxMessageBytes));
      assert.equal(value('segment.bytes'), String(64 * MiB), 'other topic overrides are kept');
      assert.equal(value('retention.ms'), String(topics.slicesOplog.retentionMs));
      await assert.rejects(
        ensureTopics(kafka, [{ ...legacy, maxMessageBytes: topics.slicesOplog.maxMessageBytes * 2 }], {
          alter: false,
        }),
        /max\.message\.bytes/,
      );
    } finally {
      await admin.disconnect();
    }
  });
});
