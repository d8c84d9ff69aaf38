/**
 * The one conformance suite of the {@link RestoreCatalog} port (`@tidemark/jobs-contract`): the in-memory catalog's
 * spec and `MongoRestoreCatalog`'s run it. `factory` gives a fresh, empty catalog per call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opTime } from '@tidemark/domain';
import {
  newRestoreEntry,
  withEvent,
  withFinish,
  withProgress,
  withPublished,
  type RestoreCatalog,
  type RestoreEntry,
} from './restore-catalog';

export function sampleRestoreEntry(restoreId: string, jobId: string, startedAt: Date): RestoreEntry {
  return newRestoreEntry({
    restoreId,
    jobId,
    kind: 'snapshot',
    snapshotId: `${jobId}-20261203T100000Z-abcd`,
    point: undefined,
    at: { opTime: opTime(1_700_000_000, 7), wallTime: new Date('2023-11-14T22:13:20.000Z') },
    target: 'mongodb://target:27017/?replicaSet=rs0',
    selection: { include: ['shop'], exclude: ['shop.logs'], renames: ['shop=shop2'] },
    drop: true,
    now: startedAt,
  });
}

export function describeRestoreCatalog(name: string, factory: () => Promise<RestoreCatalog>): void {
  describe(`RestoreCatalog contract: ${name}`, () => {
    const t0 = new Date('2026-12-03T10:00:00.000Z');
    const later = (s: number) => new Date(t0.getTime() + s * 1000);

    it('inserts once per id, and reads back exactly what was written; unknown ids are undefined', async () => {
      const catalog = await factory();
      const entry = sampleRestoreEntry('r-job00001-20261203T100000Z-aaaa', 'job00001', t0);
      assert.equal(await catalog.insert(entry), true);
      assert.equal(await catalog.insert({ ...entry, drop: false }), false);
      assert.deepEqual(await catalog.get(entry.restoreId), entry);
      assert.equal(await catalog.get('r-job00001-20261203T100000Z-zzzz'), undefined);
    });

    it('replaces only at the expected revision, keeping progress, the finish and a point-in-time position', async () => {
      const catalog = await factory();
      const entry = sampleRestoreEntry('r-job00001-20261203T100000Z-bbbb', 'job00001', t0);
      await catalog.insert(entry);
      const progressed = withProgress(
        entry,
        {
          documents: 5,
          bytes: 500,
          entries: 2,
          namespaces: { 'shop2.orders': { documents: 5, done: false } },
        },
        later(1),
      )!;
      assert.equal(await catalog.replace(progressed, entry.revision + 5), false);
      assert.equal(await catalog.replace(progressed, entry.revision), true);
      assert.deepEqual(await catalog.get(entry.restoreId), progressed);
      const failed = withFinish(
        progressed,
        { state: 'failed', reason: 'E11000: 5 documents written' },
        later(2),
      )!;
      assert.equal(await catalog.replace(failed, entry.revision), false, 'a stale revision is refused');
      assert.equal(await catalog.replace(failed, progressed.revision), true);
      assert.deepEqual(await catalog.get(entry.restoreId), failed);
      const pit = newRestoreEntry({
        ...sampleRestoreEntry('r-job00001-20261203T100000Z-cccc', 'job00001', t0),
        kind: 'point-in-time',
        snapshotId: undefined,
        point: '1700000000:9',
        at: undefined,
        now: t0,
      });
      await catalog.insert(pit);
      assert.deepEqual(await catalog.get(pit.restoreId), pit);
      assert.equal(
        await catalog.replace({ ...pit, restoreId: 'r-job00001-20261203T100000Z-none' }, pit.revision),
        false,
        'an unknown id is not created by replace',
      );
    });

    it('lists newest first, per job or all, at most limit', async () => {
      const catalog = await factory();
      const a = sampleRestoreEntry('r-job00001-20261203T100000Z-a001', 'job00001', t0);
      const b = sampleRestoreEntry('r-job00002-20261203T100001Z-b001', 'job00002', later(1));
      const c = sampleRestoreEntry('r-job00001-20261203T100002Z-c001', 'job00001', later(2));
      for (const e of [a, b, c]) await catalog.insert(e);
      const ids = (es: RestoreEntry[]) => es.map((e) => e.restoreId);
      assert.deepEqual(ids(await catalog.list({ limit: 10 })), [c.restoreId, b.restoreId, a.restoreId]);
      assert.deepEqual(ids(await catalog.list({ jobId: 'job00001', limit: 10 })), [c.restoreId, a.restoreId]);
      assert.deepEqual(ids(await catalog.list({ limit: 1 })), [c.restoreId]);
      assert.deepEqual(await catalog.list({ jobId: 'job00009', limit: 10 }), []);
    });

    it('lists by state, alone or with a job', async () => {
      const catalog = await factory();
      const a = sampleRestoreEntry('r-job00001-20261203T100000Z-a002', 'job00001', t0);
      const b = sampleRestoreEntry('r-job00002-20261203T100001Z-b002', 'job00002', later(1));
      const c = sampleRestoreEntry('r-job00001-20261203T100002Z-c002', 'job00001', later(2));
      for (const e of [a, b, c]) await catalog.insert(e);
      const failed = withFinish(b, { state: 'failed', reason: 'target gone' }, later(3))!;
      assert.equal(await catalog.replace(failed, b.revision), true);
      const ids = (es: RestoreEntry[]) => es.map((e) => e.restoreId);
      assert.deepEqual(ids(await catalog.list({ state: 'running', limit: 10 })), [c.restoreId, a.restoreId]);
      assert.deepEqual(ids(await catalog.list({ state: 'failed', limit: 10 })), [b.restoreId]);
      assert.deepEqual(ids(await catalog.list({ state: 'running', jobId: 'job00002', limit: 10 })), []);
      assert.deepEqual(ids(await catalog.list({ state: 'complete', limit: 10 })), []);
    });

    it('keeps the outbox: owed events read back in order, and list finds the restores that owe any', async () => {
      const catalog = await factory();
      const a = withEvent(
        sampleRestoreEntry('r-job00001-20261203T100000Z-a003', 'job00001', t0),
        'started',
        t0,
      );
      const b = sampleRestoreEntry('r-job00002-20261203T100001Z-b003', 'job00002', later(1));
      for (const e of [a, b]) await catalog.insert(e);
      const ids = (es: RestoreEntry[]) => es.map((e) => e.restoreId);
      assert.deepEqual(await catalog.get(a.restoreId), a);
      assert.deepEqual(ids(await catalog.list({ unpublished: true, limit: 10 })), [a.restoreId]);
      const ended = withEvent(
        withFinish(a, { state: 'cancelled', reason: 'asked to' }, later(2))!,
        'cancelled',
        later(2),
      );
      assert.equal(await catalog.replace(ended, a.revision), true);
      assert.deepEqual((await catalog.get(a.restoreId))?.unpublished, [
        { kind: 'started', at: t0 },
        { kind: 'cancelled', at: later(2) },
      ]);
      const published = withPublished(ended, ended.unpublished)!;
      assert.equal(await catalog.replace(published, ended.revision), true);
      assert.deepEqual(await catalog.get(a.restoreId), published);
      assert.deepEqual(await catalog.list({ unpublished: true, limit: 10 }), []);
      assert.deepEqual(ids(await catalog.list({ unpublished: false, limit: 10 })), [
        b.restoreId,
        a.restoreId,
      ]);
    });
  });
}

// The AlertStore contract rides along under the same import path (one conformance-suite entry point).
export * from './alert-store.contract';
