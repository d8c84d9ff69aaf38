import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, EJSON } from 'bson';
import { MemoryHeadRegistry } from './memory-head-registry';
import { MemoryHeadWriter } from './memory-head-writer';
import { MemoryOplogStore } from '@tidemark/oplog-store';
import type { Catalog } from '@tidemark/slices';
import { catalogSlice, indexesOn, initialSlice, type TestSlice } from '@tidemark/testing';
import type { PhaseReport } from '@tidemark/domain';
import { HeadBuilder } from './head-builder';

const jobId = 'j1';
const syncId = 'j1-s1';
const doc = (o: Record<string, unknown>) => Buffer.from(BSON.serialize(o));

/** A scan (or missing-document) slice; the origin is in the id so both kinds of slice 0 can coexist. */
const initial = (ns: string, seq: number, docs: Buffer[], origin: 'scan' | 'missing' = 'scan') =>
  initialSlice(jobId, ns, seq, docs, { origin, sliceId: `${syncId}:i:${ns}:${origin}:${seq}` });
const catalog = (c: Catalog) => catalogSlice(jobId, c, { codec: 'none' });

function setup() {
  const store = new MemoryOplogStore();
  const registry = new MemoryHeadRegistry();
  const writer = new MemoryHeadWriter();
  const reports: PhaseReport[] = [];
  const builder = new HeadBuilder(store, registry, writer, { report: async (r) => void reports.push(r) });
  const claim = async (s: TestSlice) => {
    await store.put(s.meta, s.payload);
    return builder.onSliceStored({ jobId, syncId, sliceId: s.meta.sliceId, kind: s.meta.kind });
  };
  return { store, registry, writer, reports, claim };
}

const scanCatalog: Catalog = {
  origin: 'scan',
  startTs: { t: 100, i: 1 },
  endTs: { t: 120, i: 3 },
  namespaces: [
    {
      ns: 'shop.orders',
      sliceCount: 2,
      docCount: 3,
      indexes: indexesOn('sku'),
    },
    { ns: 'shop.empty', sliceCount: 1, docCount: 0, options: { capped: true, size: 4096 } },
  ],
};

describe('HeadBuilder', () => {
  it('builds the head from scan slices in any order and reports building, then applying-oplogs once', async () => {
    const t = setup();
    const a = initial('shop.orders', 0, [doc({ _id: 1, sku: 'a' }), doc({ _id: 2, sku: 'b' })]);
    const b = initial('shop.orders', 1, [doc({ _id: 3, sku: 'c' })]);
    const e = initial('shop.empty', 0, []);
    assert.equal((await t.claim(b)).kind, 'built');
    assert.equal(t.reports.length, 0, 'no phase before the catalog');
    assert.equal((await t.claim(catalog(scanCatalog))).kind, 'catalog-recorded');
    assert.deepEqual(
      t.reports.map((r) => r.phase),
      ['building'],
    );
    assert.equal((await t.claim(a)).kind, 'built');
    assert.equal((await t.claim(e)).kind, 'built');
    assert.deepEqual(
      t.reports.map((r) => r.phase),
      ['building', 'applying-oplogs'],
    );
    assert.deepEqual(t.reports[1]?.details, { startTs: '100:1', endTs: '120:3' });
    const orders = t.writer.collections.get('th_j1_1_shop.orders');
    assert.equal(orders?.docs.size, 3);
    assert.equal(
      EJSON.stringify(t.writer.collections.get('th_j1_1_shop.empty')?.options),
      '{"capped":true,"size":4096}',
    );
    assert.deepEqual((await t.registry.get(jobId, syncId))?.appliedTs, { t: 100, i: 1 });

    // Redelivery of every claim changes nothing and reports nothing new.
    assert.equal((await t.claim(a)).kind, 'already-built');
    await t.claim(catalog(scanCatalog));
    assert.deepEqual(
      t.reports.map((r) => r.phase),
      ['building', 'applying-oplogs'],
    );
    assert.equal(orders?.docs.size, 3);
  });

  it('inserts fetched missing documents over the scanned ones, then creates indexes and completes', async () => {
    const t = setup();
    await t.claim(initial('shop.orders', 0, [doc({ _id: 1, sku: 'old' })]));
    await t.claim(initial('shop.orders', 1, []));
    await t.claim(initial('shop.empty', 0, []));
    await t.claim(catalog(scanCatalog));
    const missing = initial(
      'shop.orders',
      0,
      [doc({ _id: 1, sku: 'new' }), doc({ _id: 9, sku: 'z' })],
      'missing',
    );
    await t.claim(
      catalog({
        origin: 'missing',
        startTs: { t: 0, i: 0 },
        endTs: { t: 0, i: 0 },
        namespaces: [{ ns: 'shop.orders', sliceCount: 1, docCount: 2 }],
      }),
    );
    assert.ok(
      !t.reports.some((r) => r.phase === 'complete'),
      'not complete before the missing slice is built',
    );
    await t.claim(missing);
    assert.deepEqual(t.reports.map((r) => r.phase).slice(-2), ['creating-indexes', 'complete']);
    const orders = t.writer.collections.get('th_j1_1_shop.orders')!;
    assert.equal(BSON.deserialize(orders.docs.get('{"$numberInt":"1"}')!)['sku'], 'new');
    assert.deepEqual(
      orders.indexes.map((i) => i['name']),
      ['_id_', 'sku_1'],
    );
    await t.claim(missing);
    assert.equal(t.reports.filter((r) => r.phase === 'complete').length, 1, 'complete is reported once');
  });

  it('completes at once when no documents were missing', async () => {
    const t = setup();
    await t.claim(initial('shop.orders', 0, []));
    await t.claim(initial('shop.orders', 1, []));
    await t.claim(initial('shop.empty', 0, []));
    await t.claim(catalog(scanCatalog));
    await t.claim(
      catalog({ origin: 'missing', startTs: { t: 0, i: 0 }, endTs: { t: 0, i: 0 }, namespaces: [] }),
    );
    assert.equal(t.reports.at(-1)?.phase, 'complete');
  });

  it('refuses a claim for a slice the store does not hold, and a corrupt payload', async () => {
    const t = setup();
    const builder = new HeadBuilder(t.store, t.registry, t.writer, { report: async () => undefined });
    await assert.rejects(
      builder.onSliceStored({ jobId, syncId, sliceId: 'nope', kind: 'initial' }),
      /absent from the oplog store/,
    );
    const s = initial('shop.orders', 0, [doc({ _id: 1 })]);
    s.payload[s.payload.length - 1]! ^= 0xff;
    await t.store.put(s.meta, s.payload);
    await assert.rejects(
      builder.onSliceStored({ jobId, syncId, sliceId: s.meta.sliceId, kind: 'initial' }),
      /checksum/,
    );
    assert.equal(await t.registry.isBuilt(s.meta.sliceId), false);
  });
});
