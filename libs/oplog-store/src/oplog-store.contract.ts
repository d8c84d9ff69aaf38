/**
 * The contract suite every OplogStore implementation must pass (restic's backend conformance suite).
 * `factory` returns a fresh, empty store for each test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { OpTime, OplogSliceMeta, OplogStore, SliceMeta } from '@tidemark/domain';
import { oplogSliceId } from '@tidemark/slices';

const CHECKSUM = 'c'.repeat(64);

export function oplogSlice(
  prevTs: OpTime,
  lastTs: OpTime,
  over: Partial<OplogSliceMeta> = {},
): OplogSliceMeta {
  return {
    kind: 'oplog',
    jobId: 'j1',
    syncId: 'j1-s1',
    sliceId: oplogSliceId('j1-s1', prevTs, lastTs),
    sequence: 0,
    docCount: 3,
    rawBytes: 30,
    compressedBytes: 30,
    codec: 'none',
    checksum: CHECKSUM,
    prevTs,
    firstTs: { t: prevTs.t, i: prevTs.i + 1 },
    lastTs,
    ...over,
  };
}

export function describeOplogStore(
  name: string,
  factory: () => Promise<{ store: OplogStore; close(): Promise<void> }>,
) {
  describe(`OplogStore contract: ${name}`, () => {
    const withStore = (fn: (s: OplogStore) => Promise<void>) => async () => {
      const { store, close } = await factory();
      try {
        await fn(store);
      } finally {
        await close();
      }
    };

    it(
      'stores a slice once and returns its payload byte for byte, across chunk boundaries',
      withStore(async (store) => {
        const payload = randomBytes(9 * 1024 * 1024 + 17);
        const meta: SliceMeta = {
          kind: 'initial',
          origin: 'scan',
          namespace: 'shop.orders',
          jobId: 'j1',
          syncId: 'j1-s1',
          sliceId: 'j1-s1:i:shop.orders:0',
          sequence: 0,
          docCount: 1,
          rawBytes: payload.length,
          compressedBytes: payload.length,
          codec: 'none',
          checksum: CHECKSUM,
        };
        assert.equal(await store.put(meta, payload), 'stored');
        assert.equal(await store.put(meta, Buffer.from('other')), 'duplicate');
        const got = await store.get(meta.sliceId);
        assert.ok(got);
        assert.deepEqual(got.meta, meta);
        assert.ok(got.payload.equals(payload));
        assert.deepEqual(await store.getMeta(meta.sliceId), meta);
      }),
    );

    it(
      'answers undefined for unknown slices',
      withStore(async (store) => {
        assert.equal(await store.get('nope'), undefined);
        assert.equal(await store.getMeta('nope'), undefined);
        assert.equal(await store.findCovering('j1', 'j1-s1', { t: 1, i: 0 }), undefined);
        assert.equal(await store.latestOplogTs('j1', 'j1-s1'), undefined);
      }),
    );

    it(
      'finds the longest stored oplog slice covering a position, and the latest position',
      withStore(async (store) => {
        const a = oplogSlice({ t: 10, i: 0 }, { t: 20, i: 0 });
        const b = oplogSlice({ t: 20, i: 0 }, { t: 30, i: 5 });
        const bLonger = oplogSlice({ t: 20, i: 0 }, { t: 40, i: 1 }, { docCount: 7 });
        const otherSync = oplogSlice({ t: 20, i: 0 }, { t: 99, i: 0 }, { syncId: 'j1-s2', sliceId: 'x' });
        for (const s of [a, b, bLonger, otherSync]) await store.put(s, Buffer.alloc(30));
        assert.equal((await store.findCovering('j1', 'j1-s1', { t: 10, i: 0 }))?.sliceId, a.sliceId);
        assert.equal((await store.findCovering('j1', 'j1-s1', { t: 19, i: 7 }))?.sliceId, a.sliceId);
        assert.equal((await store.findCovering('j1', 'j1-s1', { t: 20, i: 0 }))?.sliceId, bLonger.sliceId);
        assert.equal((await store.findCovering('j1', 'j1-s1', { t: 35, i: 0 }))?.sliceId, bLonger.sliceId);
        assert.equal(await store.findCovering('j1', 'j1-s1', { t: 40, i: 1 }), undefined);
        assert.equal(await store.findCovering('j1', 'j1-s1', { t: 5, i: 0 }), undefined);
        assert.deepEqual(await store.latestOplogTs('j1', 'j1-s1'), { t: 40, i: 1 });
        assert.equal(await store.countEntriesAfter('j1', 'j1-s1', { t: 20, i: 0 }), 3 + 7);
        assert.equal((await store.list('j1', 'j1-s1', 'oplog')).length, 3);
      }),
    );

    it(
      'orders timestamps by increment within a second and above 2^31 seconds',
      withStore(async (store) => {
        const hi = 2 ** 31 + 5;
        await store.put(oplogSlice({ t: hi, i: 1 }, { t: hi, i: 9 }), Buffer.alloc(30));
        await store.put(oplogSlice({ t: hi, i: 9 }, { t: hi + 1, i: 2 }), Buffer.alloc(30));
        assert.deepEqual(await store.latestOplogTs('j1', 'j1-s1'), { t: hi + 1, i: 2 });
        assert.equal((await store.findCovering('j1', 'j1-s1', { t: hi, i: 8 }))?.lastTs.i, 9);
      }),
    );

    it(
      'grooms the slices that end at or before a position, keeping the one covering it and later ones',
      withStore(async (store) => {
        const payload = Buffer.alloc(5 * 1024 * 1024, 7); // two payload chunks in the Mongo store
        await store.put(oplogSlice({ t: 10, i: 0 }, { t: 20, i: 0 }), payload);
        await store.put(oplogSlice({ t: 20, i: 0 }, { t: 30, i: 0 }), Buffer.alloc(30));
        await store.put(oplogSlice({ t: 30, i: 0 }, { t: 40, i: 0 }), Buffer.alloc(30));
        await store.put(
          oplogSlice({ t: 10, i: 0 }, { t: 20, i: 0 }, { syncId: 'j1-s2', sliceId: 'other' }),
          payload,
        );
        assert.deepEqual(await store.oldestOplogTs('j1', 'j1-s1'), { t: 10, i: 0 });
        assert.equal(await store.deleteOplogThrough('j1', 'j1-s1', { t: 25, i: 0 }), 1);
        assert.equal(await store.deleteOplogThrough('j1', 'j1-s1', { t: 25, i: 0 }), 0);
        assert.deepEqual(await store.oldestOplogTs('j1', 'j1-s1'), { t: 20, i: 0 });
        assert.equal((await store.findCovering('j1', 'j1-s1', { t: 25, i: 0 }))?.lastTs.t, 30);
        assert.equal(await store.findCovering('j1', 'j1-s1', { t: 15, i: 0 }), undefined);
        assert.equal(await store.get(oplogSliceId('j1-s1', { t: 10, i: 0 }, { t: 20, i: 0 })), undefined);
        assert.deepEqual(await store.latestOplogTs('j1', 'j1-s1'), { t: 40, i: 0 });
        assert.equal((await store.get('other'))?.payload.length, payload.length, 'another sync is untouched');
        assert.equal(await store.deleteOplogThrough('j1', 'j1-s1', { t: 40, i: 0 }), 2);
        assert.equal(await store.oldestOplogTs('j1', 'j1-s1'), undefined);
      }),
    );

    it(
      'totals the slices of one sync, of every kind, by their stored bytes',
      withStore(async (store) => {
        assert.deepEqual(await store.storedTotals('j1', 'j1-s1'), { slices: 0, bytes: 0 });
        await store.put(
          oplogSlice({ t: 1, i: 0 }, { t: 2, i: 0 }, { compressedBytes: 100 }),
          Buffer.alloc(100),
        );
        await store.put(
          oplogSlice({ t: 2, i: 0 }, { t: 3, i: 0 }, { compressedBytes: 40 }),
          Buffer.alloc(40),
        );
        await store.put(
          oplogSlice({ t: 1, i: 0 }, { t: 2, i: 0 }, { syncId: 'j1-s2', sliceId: 'other-sync' }),
          Buffer.alloc(30),
        );
        await store.put(
          oplogSlice({ t: 1, i: 0 }, { t: 2, i: 0 }, { jobId: 'j2', syncId: 'j2-s1', sliceId: 'other-job' }),
          Buffer.alloc(30),
        );
        assert.deepEqual(await store.storedTotals('j1', 'j1-s1'), { slices: 2, bytes: 140 });
        assert.deepEqual(await store.storedTotals('j1', 'j1-s2'), { slices: 1, bytes: 30 });
        await store.deleteSync('j1', 'j1-s1');
        assert.deepEqual(await store.storedTotals('j1', 'j1-s1'), { slices: 0, bytes: 0 });
      }),
    );

    it(
      'deletes a sync idempotently without touching other syncs',
      withStore(async (store) => {
        await store.put(oplogSlice({ t: 1, i: 0 }, { t: 2, i: 0 }), Buffer.alloc(30));
        await store.put(
          oplogSlice({ t: 1, i: 0 }, { t: 2, i: 0 }, { syncId: 'j1-s2', sliceId: 'y' }),
          Buffer.alloc(30),
        );
        await store.deleteSync('j1', 'j1-s1');
        await store.deleteSync('j1', 'j1-s1');
        assert.equal(await store.latestOplogTs('j1', 'j1-s1'), undefined);
        assert.deepEqual(await store.latestOplogTs('j1', 'j1-s2'), { t: 2, i: 0 });
      }),
    );
  });
}
