/** The contract every HeadRegistry must pass; `factory` returns a fresh, empty registry per test. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HeadCatalog, HeadRegistry } from '@tidemark/domain';

export function describeHeadRegistry(
  name: string,
  factory: () => Promise<{ registry: HeadRegistry; close(): Promise<void> }>,
) {
  const catalog: HeadCatalog = {
    startTs: { t: 2 ** 31 + 10, i: 2 },
    endTs: { t: 2 ** 31 + 20, i: 1 },
    namespaces: [
      { ns: 'shop.orders', headNs: 'th_j1_1_shop.orders', sliceCount: 2, docCount: 10, indexesEjson: '[]' },
    ],
  };
  const withRegistry = (fn: (r: HeadRegistry) => Promise<void>) => async () => {
    const { registry, close } = await factory();
    try {
      await fn(registry);
    } finally {
      await close();
    }
  };

  describe(`HeadRegistry contract: ${name}`, () => {
    it(
      'records the scan catalog once and starts the applied position at startTs',
      withRegistry(async (r) => {
        assert.equal(await r.get('j1', 'j1-s1'), undefined);
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        const h = await r.get('j1', 'j1-s1');
        assert.deepEqual(h?.scan, catalog);
        assert.deepEqual(h?.appliedTs, catalog.startTs);
        assert.equal(h?.syncNo, 1);
      }),
    );

    it(
      'moves the applied position only forward',
      withRegistry(async (r) => {
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        assert.deepEqual(await r.setAppliedTs('j1', 'j1-s1', { t: 2 ** 31 + 15, i: 0 }), {
          t: 2 ** 31 + 15,
          i: 0,
        });
        assert.deepEqual(await r.setAppliedTs('j1', 'j1-s1', { t: 2 ** 31 + 12, i: 9 }), {
          t: 2 ** 31 + 15,
          i: 0,
        });
        assert.deepEqual(await r.setAppliedTs('j1', 'j1-s1', { t: 2 ** 31 + 15, i: 1 }), {
          t: 2 ** 31 + 15,
          i: 1,
        });
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        assert.deepEqual(
          (await r.get('j1', 'j1-s1'))?.appliedTs,
          { t: 2 ** 31 + 15, i: 1 },
          'a catalog replay keeps the position',
        );
      }),
    );

    it(
      'counts built slices per origin, idempotently',
      withRegistry(async (r) => {
        await r.markBuilt('a', { jobId: 'j1', syncId: 'j1-s1', origin: 'scan', ns: 'shop.orders' });
        await r.markBuilt('a', { jobId: 'j1', syncId: 'j1-s1', origin: 'scan', ns: 'shop.orders' });
        await r.markBuilt('b', { jobId: 'j1', syncId: 'j1-s1', origin: 'missing', ns: 'shop.orders' });
        assert.equal(await r.countBuilt('j1', 'j1-s1', 'scan'), 1);
        assert.equal(await r.countBuilt('j1', 'j1-s1', 'missing'), 1);
        assert.equal(await r.isBuilt('a'), true);
        assert.equal(await r.isBuilt('zz'), false);
      }),
    );

    it(
      'sets each completion mark once',
      withRegistry(async (r) => {
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        assert.equal(await r.mark('j1', 'j1-s1', 'buildCompleteAt'), true);
        assert.equal(await r.mark('j1', 'j1-s1', 'buildCompleteAt'), false);
        assert.ok((await r.get('j1', 'j1-s1'))?.buildCompleteAt instanceof Date);
        await r.recordMissingCatalog('j1', 'j1-s1', [{ ns: 'shop.orders', sliceCount: 1, docCount: 3 }]);
        assert.deepEqual((await r.get('j1', 'j1-s1'))?.missing, {
          namespaces: [{ ns: 'shop.orders', sliceCount: 1, docCount: 3 }],
        });
        assert.equal((await r.listForJob('j1')).length, 1);
        await r.remove('j1', 'j1-s1');
        assert.equal(await r.get('j1', 'j1-s1'), undefined);
        assert.equal(await r.countBuilt('j1', 'j1-s1', 'scan'), 0);
      }),
    );

    it(
      'records head databases once each, per sync, and forgets them with the head',
      withRegistry(async (r) => {
        assert.equal(await r.recordedDatabases('j1', 'j1-s1'), undefined, 'no head record: not recorded');
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        assert.equal((await r.get('j1', 'j1-s1'))?.recordsDatabases, true, 'a new record records them');
        assert.deepEqual(await r.recordedDatabases('j1', 'j1-s1'), []);
        await r.recordDatabase('j1', 'j1-s1', 'th_j1_1_zeta');
        await r.recordDatabase('j1', 'j1-s1', 'th_j1_1_alpha');
        await r.recordDatabase('j1', 'j1-s1', 'th_j1_1_zeta');
        await r.recordScanCatalog('j1', 'j1-s2', 2, catalog);
        await r.recordDatabase('j1', 'j1-s2', 'th_j1_2_other');
        assert.deepEqual(await r.recordedDatabases('j1', 'j1-s1'), ['th_j1_1_alpha', 'th_j1_1_zeta']);
        assert.deepEqual(await r.recordedDatabases('j1', 'j1-s2'), ['th_j1_2_other']);
        await r.remove('j1', 'j1-s1');
        assert.equal(await r.recordedDatabases('j1', 'j1-s1'), undefined);
        await r.recordScanCatalog('j1', 'j1-s1', 1, catalog);
        assert.deepEqual(await r.recordedDatabases('j1', 'j1-s1'), [], 'a removed head starts afresh');
      }),
    );
  });
}
