/**
 * head-builder as a real process against real Kafka and the backup FerretDB: slices are put in the oplog store,
 * claims published on `tidemark.slices.stored`; the head database must hold the documents byte for byte, the
 * phases must appear on `tidemark.phases`, and a redelivered claim must change nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, EJSON, Int32, Long, ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import type { Kafka, Producer } from 'kafkajs';
import {
  createKafka,
  defaultCodec,
  ensureTopics,
  producerFor,
  publish,
  resolveTopics,
  topicList,
  type SliceStored,
  type Topics,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import type { SliceMeta } from '@tidemark/domain';
import { MongoOplogStore } from '@tidemark/oplog-store';
import type { Catalog } from '@tidemark/slices';
import {
  catalogSlice,
  indexesOn,
  initialSlice,
  scrapeMetrics,
  ServiceStack,
  sumSamples,
  uniqueDbName,
} from '@tidemark/testing';

const s = `${Date.now().toString(36).slice(-6)}`;
const jobId = `hb${s}`;
const syncId = `${jobId}-s1`;
const env = {
  TIDEMARK_TOPIC_PREFIX: `t-hb-${s}`,
  TIDEMARK_META_DB: uniqueDbName('t_hb_meta'),
  TIDEMARK_OPLOG_STORE_DB: uniqueDbName('t_hb_os'),
};
const docs = Array.from({ length: 50 }, (_, k) =>
  Buffer.from(
    BSON.serialize({
      _id: k % 2 ? new ObjectId() : `d${k}`,
      n: new Int32(k),
      l: Long.fromNumber(k * 1e12),
      s: 'x'.repeat(k),
    }),
  ),
);

function claim(m: SliceMeta): SliceStored {
  return {
    jobId,
    syncId,
    sliceId: m.sliceId,
    kind: m.kind === 'initial' ? 'INITIAL' : 'CATALOG',
    origin: 'SCAN',
    sequence: 0n,
    namespace: m.kind === 'initial' ? m.namespace : null,
    prevTs: null,
    firstTs: null,
    lastTs: null,
    docCount: BigInt(m.docCount),
    compressedBytes: BigInt(m.compressedBytes),
    storedAt: new Date(),
  } as SliceStored;
}

describe('head-builder service', () => {
  let backup: MongoClient;
  let kafka: Kafka;
  let producer: Producer;
  let topics: Topics;
  const stack = new ServiceStack(env, `head-builder-${s}`);

  before(async () => {
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    kafka = createKafka({ brokers: resolveEndpoints().kafka.brokers, clientId: 't-hb' });
    topics = resolveTopics({ prefix: env.TIDEMARK_TOPIC_PREFIX });
    await ensureTopics(kafka, topicList(topics));
    producer = producerFor(kafka);
    await producer.connect();
    await stack.start('head-builder');
  });

  after(async () => {
    await stack.stopAll();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: topicList(topics).map((t) => t.name) }).catch(() => undefined);
    await admin.disconnect();
    for (const db of [env.TIDEMARK_META_DB, env.TIDEMARK_OPLOG_STORE_DB, `th_${jobId}_1_shop`])
      await backup.db(db).dropDatabase();
    await backup.close();
  });

  it('builds the head from stored slices, reports building then applying-oplogs, and ignores redelivery', async () => {
    const store = new MongoOplogStore(backup, env.TIDEMARK_OPLOG_STORE_DB);
    await store.init();
    const catalog: Catalog = {
      origin: 'scan',
      startTs: { t: 100, i: 1 },
      endTs: { t: 101, i: 1 },
      namespaces: [{ ns: 'shop.items', sliceCount: 2, docCount: 50, indexes: indexesOn('n') }],
    };
    const slices = [
      initialSlice(jobId, 'shop.items', 0, docs.slice(0, 30)),
      initialSlice(jobId, 'shop.items', 1, docs.slice(30)),
      catalogSlice(jobId, catalog, { codec: 'none' }),
    ];
    for (const { meta, payload } of slices) await store.put(meta, payload);
    for (const { meta } of [...slices, slices[0]!]) await publish(producer, topics.slicesStored, claim(meta));

    const coll = backup.db(`th_${jobId}_1_shop`).collection('items');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await coll.countDocuments()) < 50)
      await new Promise((r) => setTimeout(r, 300));
    const raw = (await coll.find({}, { raw: true }).toArray()).map((d) =>
      Buffer.from(d as unknown as Uint8Array),
    );
    assert.equal(raw.length, 50);
    const want = new Set(docs.map((d) => d.toString('hex')));
    for (const d of raw) assert.ok(want.has(d.toString('hex')), 'every document arrives byte for byte');
    // /metrics: two initial slices built with their 50 documents; the redelivered claim built nothing.
    const built = { kind: 'initial', outcome: 'built' };
    let metrics = await scrapeMetrics(stack.urlOf('head-builder'));
    // Counted once the claim's handling returns, just after its documents are written.
    for (let k = 0; k < 50 && sumSamples(metrics, 'tidemark_slices_total', built) < 2; k++) {
      await new Promise((r) => setTimeout(r, 200));
      metrics = await scrapeMetrics(stack.urlOf('head-builder'));
    }
    assert.equal(sumSamples(metrics, 'tidemark_slices_total', built), 2);
    assert.equal(sumSamples(metrics, 'tidemark_slice_documents_total', built), 50);

    // Phases on tidemark.phases.
    const consumer = kafka.consumer({ groupId: `t-hb-check-${s}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.phases.name], fromBeginning: true });
    const phases: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = defaultCodec().decodeAs('tidemark.phases.PhaseChanged', message.value!);
        if (v.jobId === jobId) phases.push(v.phase);
      },
    });
    const until = Date.now() + 20_000;
    while (Date.now() < until && !phases.includes('APPLYING_OPLOGS'))
      await new Promise((r) => setTimeout(r, 200));
    await consumer.disconnect();
    assert.deepEqual(phases, ['BUILDING', 'APPLYING_OPLOGS']);
    const head = await backup
      .db(env.TIDEMARK_META_DB)
      .collection('heads')
      .findOne({ _id: `${jobId}/${syncId}` as never });
    assert.ok(head?.['buildCompleteAt'] instanceof Date);
    // The applied position lives in a document of its own (docs/format.md, "Head records").
    const position = await backup
      .db(env.TIDEMARK_META_DB)
      .collection('head_positions')
      .findOne({ _id: `${jobId}/${syncId}` as never });
    assert.equal(EJSON.stringify(position?.['appliedTs']), EJSON.stringify({ $timestamp: { t: 100, i: 1 } }));
  });
});
