/**
 * An initial sync against the real source server (FerretDB here) and the real Kafka broker: agent-core's
 * `InitialSync` over `@tidemark/source`'s `MongoSource` and the agent's Kafka publisher, with a topic prefix and
 * source databases of its own. Read back from `tidemark.slices.initial` / `.oplog`:
 * - every document's raw BSON bytes arrive exactly once across the initial-sync slices;
 * - writes made during the scan arrive in oplog slices, byte for byte as the source oplog holds them;
 * - oplog ranges are back to back from the sync's startTs;
 * - the catalog lists every namespace with the right slice and document counts, options and indexes.
 * It logs the scan throughput.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BSON, Timestamp, type Document, type MongoClient } from 'mongodb';
import type { Kafka, Producer } from 'kafkajs';
import { DEFAULT_AGENT_SETTINGS, InitialSync, type AgentSettings, type SyncJob } from '@tidemark/capture';
import {
  createKafka,
  deleteTopics,
  ensureTopics,
  KafkaSlicePublisher,
  opTimeFromAvroLong,
  producerFor,
  resolveTopics,
  sliceMetaFromProduced,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { DEFAULT_SLICE_LIMITS, isAfter, type OpTime, type SliceMeta } from '@tidemark/domain';
import { classifyMongoError, connectMongo } from '@tidemark/mongo';
import { decodeCatalog, decodeSlicePayload } from '@tidemark/slices';
import { MongoSource } from '@tidemark/source';
import { uniqueDbName } from '@tidemark/testing';
import { TopicReader } from './kafka-reader';

const suffix = randomBytes(4).toString('hex');
const prefix = `it-agent-sync-${suffix}`;
const topics = resolveTopics({ prefix, env: {} });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fmt = (t: OpTime): string => `${t.t}:${t.i}`;

describe('agent initial sync against FerretDB and Kafka', () => {
  const endpoints = resolveEndpoints();
  const db = uniqueDbName('agent_it');
  const otherDb = uniqueDbName('agent_it_other');
  const jobId = `it${suffix}`;
  const job: SyncJob = { jobId, syncId: `${jobId}-s1`, syncNo: 1, filters: { include: [db], exclude: [] } };
  let kafka: Kafka;
  let producer: Producer;
  let client: MongoClient;
  const expected = new Map<string, Set<string>>();

  before(async () => {
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-agent-${suffix}` });
    await ensureTopics(kafka, [topics.slicesInitial, topics.slicesOplog, topics.phases, topics.alerts]);
    producer = producerFor(kafka);
    await producer.connect();
    client = await connectMongo(endpoints.source.uri, {
      appName: 'tidemark-agent-int-spec',
      maxPoolSize: 20,
    });
    const seed = async (coll: string, docs: Document[]): Promise<void> => {
      for (let k = 0; k < docs.length; k += 1000)
        await client
          .db(db)
          .collection(coll)
          .insertMany(docs.slice(k, k + 1000));
      expected.set(`${db}.${coll}`, new Set(docs.map((d) => hex(BSON.serialize(d)))));
    };
    await seed(
      'orders',
      Array.from({ length: 4000 }, (_, k) => ({
        _id: k,
        customer: `c${k % 97}`,
        lines: Array.from({ length: 1 + (k % 5) }, (_, n) => ({
          sku: `sku-${n}`,
          qty: n + 1,
          price: (k % 100) / 3,
        })),
        note: 'n'.repeat(200 + (k % 300)),
        at: new Date(1_700_000_000_000 + k * 1000),
      })),
    );
    await seed(
      'users',
      Array.from({ length: 1500 }, (_, k) => ({ _id: `user-${k}`, name: `User ${k}`, tags: ['a', 'b'] })),
    );
    await client.db(db).collection('orders').createIndex({ customer: 1 }, { name: 'customer_1' });
    await client.db(db).createCollection('empty');
    expected.set(`${db}.empty`, new Set());
    await client.db(db).createCollection('live');
    expected.set(`${db}.live`, new Set());
    await client.db(otherDb).collection<{ _id: number }>('ignored').insertOne({ _id: 1 });
  });

  after(async () => {
    await producer?.disconnect();
    await client?.db(db).dropDatabase();
    await client?.db(otherDb).dropDatabase();
    await client?.close();
    if (kafka !== undefined) {
      await deleteTopics(kafka, [
        topics.slicesInitial.name,
        topics.slicesOplog.name,
        topics.phases.name,
        topics.alerts.name,
      ]);
    }
  });

  it('delivers the collections once, the concurrent writes in back-to-back oplog slices, and a true catalog', async () => {
    const settings: AgentSettings = {
      ...DEFAULT_AGENT_SETTINGS,
      sliceTargetBytes: 256 * 1024,
      oplogFlushMs: 500,
    };
    const publisher = new KafkaSlicePublisher(producer, topics);
    const source = new MongoSource(client, { classifyError: classifyMongoError });
    const initial = new TopicReader(kafka, [topics.slicesInitial], 'tidemark.slices.SliceProduced');
    const oplog = new TopicReader(kafka, [topics.slicesOplog], 'tidemark.slices.SliceProduced');
    await initial.start();
    await oplog.start();
    const controller = new AbortController();
    try {
      // Writes during the transfer, to a collection of the job and to one it does not back up.
      let writing = true;
      let writes = 0;
      const live = client.db(db).collection<{ _id: number; v?: number }>('live');
      const writer = (async () => {
        await new Promise((r) => setTimeout(r, 200));
        // At least 30 rounds (46 entries of the job's): a fast scan (a PostgreSQL source) may end within a few.
        for (let k = 0; writing || k < 30; k++) {
          await live.insertOne({ _id: k });
          if (k % 3 === 0) await live.updateOne({ _id: k }, { $set: { v: k } });
          if (k % 5 === 4) await live.deleteOne({ _id: k - 1 });
          await client
            .db(otherDb)
            .collection<{ _id: number }>('ignored')
            .insertOne({ _id: 1000 + k });
          writes += 1;
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const sync = new InitialSync({ source, publisher, settings });
      const result = await sync.run(job, controller.signal);
      writing = false;
      await writer;
      const lastWrite = (await source.latestOplogTs())!;
      console.log(
        `scan: ${result.docs} docs, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB in ${result.scanMs} ms = ` +
          `${Math.round((result.docs * 1000) / result.scanMs)} docs/s, ` +
          `${(((result.bytes / 1024 / 1024) * 1000) / result.scanMs).toFixed(2)} MiB/s (${writes} concurrent write rounds)`,
      );

      // The catalog closes the initial-sync topic's stream of this sync.
      await initial.until((r) => r.some((m) => m.value.kind === 'CATALOG'), 120_000, 'the catalog slice');
      const received = initial.received.filter((m) => m.value.syncId === job.syncId);
      const metas = received.map((m) => sliceMetaFromProduced(m.value));
      const catalogAt = metas.findIndex((m) => m.kind === 'catalog');
      assert.equal(catalogAt, metas.length - 1, 'nothing after the catalog');
      const docsByNs = new Map<string, string[]>();
      const slicesByNs = new Map<string, number>();
      for (const [k, m] of received.entries()) {
        const meta = metas[k]!;
        if (meta.kind !== 'initial') continue;
        assert.equal(m.key, `${jobId}/${meta.namespace}`);
        const docs = decodeSlicePayload(m.value.payload, meta, DEFAULT_SLICE_LIMITS);
        docsByNs.set(meta.namespace, [...(docsByNs.get(meta.namespace) ?? []), ...docs.map(hex)]);
        slicesByNs.set(meta.namespace, (slicesByNs.get(meta.namespace) ?? 0) + 1);
      }
      for (const ns of [`${db}.orders`, `${db}.users`, `${db}.empty`]) {
        const got = docsByNs.get(ns) ?? [];
        assert.equal(got.length, expected.get(ns)!.size, `${ns}: document count`);
        assert.equal(new Set(got).size, got.length, `${ns}: no document twice`);
        for (const doc of got) assert.ok(expected.get(ns)!.has(doc), `${ns}: exact bytes`);
      }
      assert.ok((slicesByNs.get(`${db}.orders`) ?? 0) > 1, 'orders spans several slices');
      assert.equal(slicesByNs.get(`${db}.empty`), 1, 'an empty collection has one empty slice');
      assert.ok(
        ![...docsByNs.keys()].some((ns) => ns.startsWith(otherDb)),
        'unselected database not scanned',
      );

      const catalogRecord = received[catalogAt]!;
      const catalogMeta = metas[catalogAt]! as Extract<SliceMeta, { kind: 'catalog' }>;
      assert.equal(catalogRecord.key, jobId);
      assert.equal(catalogMeta.sliceId, `${job.syncId}:c:scan`);
      const catalog = decodeCatalog(
        decodeSlicePayload(catalogRecord.value.payload, catalogMeta, DEFAULT_SLICE_LIMITS),
      );
      assert.deepEqual(catalog.startTs, result.startTs);
      assert.deepEqual(catalog.endTs, result.endTs);
      assert.ok(!isAfter(catalog.startTs, catalog.endTs));
      assert.deepEqual(
        catalog.namespaces.map((n) => n.ns),
        [`${db}.empty`, `${db}.live`, `${db}.orders`, `${db}.users`],
      );
      for (const n of catalog.namespaces) {
        assert.equal(n.sliceCount, slicesByNs.get(n.ns), `${n.ns}: catalog slice count`);
        assert.equal(n.docCount, (docsByNs.get(n.ns) ?? []).length, `${n.ns}: catalog document count`);
      }
      const orders = catalog.namespaces.find((n) => n.ns === `${db}.orders`)!;
      assert.deepEqual(orders.indexes?.map((i) => i['name']).sort(), ['_id_', 'customer_1']);

      // Oplog: everything the source wrote to the job's namespaces after startTs, back to back.
      await oplog.until(
        (r) => {
          const last = r.filter((m) => m.value.syncId === job.syncId).at(-1)?.value.lastTs;
          return last != null && !isAfter(lastWrite, opTimeFromAvroLong(last));
        },
        180_000,
        `oplog slices up to ${fmt(lastWrite)}`,
      );
      const oplogSlices = oplog.received.filter((m) => m.value.syncId === job.syncId);
      let prev = result.startTs;
      const shipped: string[] = [];
      for (const m of oplogSlices) {
        const meta = sliceMetaFromProduced(m.value);
        assert.ok(meta.kind === 'oplog');
        assert.equal(m.key, jobId);
        assert.deepEqual(meta.prevTs, prev, `slice ${meta.sliceId} starts where the previous ended`);
        for (const raw of decodeSlicePayload(m.value.payload, meta, DEFAULT_SLICE_LIMITS))
          shipped.push(hex(raw));
        prev = meta.lastTs;
      }
      const truth = await client
        .db('local')
        .collection<{ ts: Timestamp; ns: string }>('oplog.rs')
        .find(
          {
            ns: { $regex: `^${db}\\.` },
            ts: { $gt: new Timestamp({ t: result.startTs.t, i: result.startTs.i }) },
          },
          { raw: true, sort: { ts: 1 } },
        )
        .toArray();
      assert.ok(truth.length >= 40, `${truth.length} oplog entries written during the transfer`);
      assert.deepEqual(
        shipped,
        truth.map((d) => hex(d as unknown as Uint8Array)),
        "the job's oplog entries, byte for byte, in order",
      );
    } finally {
      controller.abort();
      await initial.stop();
      await oplog.stop();
    }
  });
});
