/**
 * The `AlertStore` contract: one suite every implementation passes (`MemoryAlertStore` in a unit spec,
 * `MongoAlertStore` of `@tidemark/jobs-mongo` against the backup-side server).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEntry, AlertStore } from './alert-store';

export function sampleAlertEntry(over: Partial<AlertEntry> = {}): AlertEntry {
  return {
    alertId: 'al-1',
    jobId: 'job00001',
    project: 'shop',
    code: 'SNAPSHOT_FAILED',
    subject: 'job00001',
    generation: 1,
    severity: 'critical',
    message: 'snapshot s1 failed: fence busy',
    context: { snapshotId: 's1', 'with.dot': 'x' },
    state: 'open',
    openedAt: new Date('2026-12-03T10:00:00Z'),
    closedAt: undefined,
    closeReason: undefined,
    unpublished: ['open'],
    ...over,
  };
}

export function describeAlertStore(name: string, factory: () => Promise<AlertStore>): void {
  describe(`AlertStore contract: ${name}`, () => {
    it('stores an opening once per (job, code, subject, generation), and reads it back as written', async () => {
      const store = await factory();
      const entry = sampleAlertEntry();
      assert.equal(await store.insertOpen(entry), true);
      assert.equal(
        await store.insertOpen({ ...entry, alertId: 'al-2' }),
        false,
        'another replica, same slot',
      );
      assert.deepEqual(await store.get('al-1'), entry);
      assert.equal(await store.get('al-2'), undefined);
      assert.equal(await store.insertOpen({ ...entry, alertId: 'al-3', generation: 2 }), true);
      assert.equal((await store.latest('job00001', 'SNAPSHOT_FAILED', 'job00001'))?.alertId, 'al-3');
      assert.equal(await store.latest('job00001', 'SNAPSHOT_FAILED', 'other'), undefined);
      const system = sampleAlertEntry({
        alertId: 'al-4',
        jobId: null,
        project: null,
        code: 'STAGE_NOT_CONSUMING',
        subject: 'g/t/0',
      });
      assert.equal(await store.insertOpen(system), true);
      assert.deepEqual(await store.latest(null, 'STAGE_NOT_CONSUMING', 'g/t/0'), system);
    });

    it('closes an open alert once (compare-and-set), owing its closed event after its open one', async () => {
      const store = await factory();
      await store.insertOpen(sampleAlertEntry());
      const at = new Date('2026-12-03T11:00:00Z');
      const closed = await store.close('al-1', at, 'snapshot s2 completed');
      assert.deepEqual(closed, {
        ...sampleAlertEntry(),
        state: 'closed',
        closedAt: at,
        closeReason: 'snapshot s2 completed',
        unpublished: ['open', 'closed'],
      });
      assert.deepEqual(await store.get('al-1'), closed);
      assert.equal(await store.close('al-1', at, 'again'), undefined);
      assert.equal(await store.close('al-unknown', at, 'x'), undefined);
      await store.markPublished('al-1', ['open']);
      assert.deepEqual((await store.get('al-1'))?.unpublished, ['closed']);
      assert.deepEqual(
        (await store.listUnpublished(10)).map((e) => e.alertId),
        ['al-1'],
      );
      await store.markPublished('al-1', ['closed']);
      assert.deepEqual(await store.listUnpublished(10), []);
    });

    it('lists newest opened first, by project (with alerts about no job), job, state, and limit', async () => {
      const store = await factory();
      const t = (m: number) => new Date(Date.UTC(2026, 11, 3, 10, m));
      await store.insertOpen(sampleAlertEntry({ alertId: 'a1', openedAt: t(1) }));
      await store.insertOpen(sampleAlertEntry({ alertId: 'a2', subject: 's2', openedAt: t(2) }));
      await store.insertOpen(
        sampleAlertEntry({
          alertId: 'a3',
          jobId: 'job00002',
          project: 'other',
          subject: 'x',
          openedAt: t(3),
        }),
      );
      await store.insertOpen(
        sampleAlertEntry({
          alertId: 'a4',
          jobId: null,
          project: null,
          code: 'STAGE_NOT_CONSUMING',
          openedAt: t(4),
        }),
      );
      await store.close('a1', t(5), 'done');
      const ids = async (q: Parameters<AlertStore['list']>[0]) => (await store.list(q)).map((e) => e.alertId);
      assert.deepEqual(await ids({ limit: 10 }), ['a4', 'a3', 'a2', 'a1']);
      assert.deepEqual(await ids({ project: 'shop', limit: 10 }), ['a4', 'a2', 'a1']);
      assert.deepEqual(await ids({ project: 'shop', state: 'open', limit: 10 }), ['a4', 'a2']);
      assert.deepEqual(await ids({ project: 'shop', state: 'closed', limit: 10 }), ['a1']);
      assert.deepEqual(await ids({ jobId: 'job00001', limit: 10 }), ['a2', 'a1']);
      assert.deepEqual(await ids({ noJob: true, state: 'open', limit: 10 }), ['a4']);
      assert.deepEqual(await ids({ project: 'shop', limit: 2 }), ['a4', 'a2']);
    });

    it('deletes closed alerts closed before a time that owe nothing, never open ones', async () => {
      const store = await factory();
      const t = (m: number) => new Date(Date.UTC(2026, 11, 3, 10, m));
      await store.insertOpen(sampleAlertEntry({ alertId: 'a1', unpublished: [] }));
      await store.insertOpen(sampleAlertEntry({ alertId: 'a2', subject: 's2', unpublished: [] }));
      await store.insertOpen(sampleAlertEntry({ alertId: 'a3', subject: 's3', unpublished: [] }));
      await store.close('a1', t(1), 'r');
      await store.close('a2', t(1), 'r');
      await store.markPublished('a1', ['closed']);
      assert.equal(await store.deleteClosedBefore(t(2)), 1, 'a2 still owes its closed event');
      assert.equal(await store.get('a1'), undefined);
      assert.deepEqual((await store.list({ limit: 10 })).map((e) => e.alertId).sort(), ['a2', 'a3']);
    });
  });
}
