import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { opTime, type SnapshotEvent, type SnapshotSchedule } from '@tidemark/domain';
import { MemoryApplyFence, MemoryHeadSource } from './memory-head-source';
import { MemorySnapshotStore } from './memory-snapshot-store';
import { SnapshotUnavailableError } from './snapshot-errors';
import { SnapshotWorker, type SnapshotJob, type SnapshotJobSource } from './snapshot-worker';

const MINUTE = 60_000;
const schedule: SnapshotSchedule = {
  intervalMinutes: 60,
  retention: { baseMinutes: 90, daily: 0, weekly: 0, monthly: 0 },
  pointInTimeWindowHours: 24,
};

function world() {
  let now = Date.parse('2026-12-03T00:00:00Z');
  const clock = () => now;
  const store = new MemorySnapshotStore(clock);
  const head = new MemoryHeadSource();
  const job: SnapshotJob = {
    jobId: 'job00001',
    syncId: 'job00001-s1',
    schedule,
    store: { kind: 'blockstore' },
  };
  head.setNamespace(job.jobId, job.syncId, 'shop.items', [BSON.serialize({ _id: 1, a: 'x'.repeat(100) })]);
  head.setApplied(job.jobId, job.syncId, opTime(100, 1));
  const active = new Set([job.jobId]);
  const jobs: SnapshotJobSource = {
    listSnapshotting: async () => (active.has(job.jobId) ? [job] : []),
    get: async (id) => (id === job.jobId ? { ...job, createsSnapshots: active.has(id) } : undefined),
  };
  const events: SnapshotEvent[] = [];
  const worker = new SnapshotWorker({
    jobs,
    storeFor: async () => store,
    keyFor: async () => undefined,
    head,
    fence: new MemoryApplyFence(clock),
    events: { publish: async (e) => void events.push(e) },
    owner: 'me',
    clock,
    log: () => undefined,
  });
  const kinds = () => events.map((e) => `${e.event}:${e.snapshotId.slice(-4)}`);
  return { worker, store, job, active, events, kinds, advance: (ms: number) => (now += ms) };
}

describe('SnapshotWorker', () => {
  it('takes a snapshot when one is due, not before, and expires what retention no longer keeps', async () => {
    const w = world();
    await w.worker.tick();
    assert.deepEqual(
      w.events.map((e) => e.event),
      ['started', 'completed'],
    );
    assert.equal(w.events[1]?.opTime.t, 100);
    await w.worker.tick();
    assert.equal(w.events.length, 2, 'not due yet: nothing taken');
    w.advance(61 * MINUTE);
    await w.worker.tick();
    assert.deepEqual(
      w.events.map((e) => e.event),
      ['started', 'completed', 'started', 'completed'],
    );
    w.advance(61 * MINUTE); // the first is now 122 min old: past the 90 min base retention
    await w.worker.tick();
    const expired = w.events.filter((e) => e.event === 'expired');
    assert.deepEqual(
      expired.map((e) => e.snapshotId),
      [w.events[1]!.snapshotId],
    );
    assert.equal((await w.store.listSnapshots(w.job.jobId)).length, 2);
  });

  it('lists the store once on a tick that takes nothing, twice on one that takes a snapshot', async () => {
    const w = world();
    let listings = 0;
    const list = w.store.listSnapshots.bind(w.store);
    w.store.listSnapshots = async (jobId) => {
      listings++;
      return list(jobId);
    };
    await w.worker.tick();
    const taking = listings;
    listings = 0;
    await w.worker.tick();
    assert.equal(listings, 1, 'a tick with nothing due lists once');
    // The take itself lists once (the previous snapshot's block sizes); the tick lists before and after it.
    assert.equal(taking, 3);
  });

  it('answers commands: take (refused unless active), verify, delete', async () => {
    const w = world();
    const id = `${w.job.jobId}-20261203T000000Z-abcd`;
    const record = await w.worker.take(w.job.jobId, id, 'r1');
    assert.equal(record?.state, 'complete');
    assert.equal(w.events.at(-1)?.requestId, 'r1');
    await w.worker.take(w.job.jobId, id, 'r1'); // redelivered: answered again, nothing taken twice
    assert.deepEqual(w.kinds(), ['started:abcd', 'completed:abcd', 'completed:abcd']);
    await w.worker.verify(w.job.jobId, id, 'r2');
    assert.deepEqual(w.events.at(-1)?.verify, { ok: true, damagedBlocks: 0 });
    await w.worker.remove(w.job.jobId, id, 'r3');
    assert.equal(w.events.at(-1)?.event, 'deleted');
    assert.equal(await w.store.getSnapshot(w.job.jobId, id), undefined);
    w.active.delete(w.job.jobId);
    assert.equal(await w.worker.take(w.job.jobId, `${w.job.jobId}-20261203T000001Z-efgh`, 'r4'), undefined);
    assert.deepEqual([w.events.at(-1)?.event, w.events.at(-1)?.reason], ['failed', 'the job is not active']);
  });

  it('defers while another holder has the lock: a scheduled snapshot leaves no trace, an on-demand one throws to be retried', async () => {
    const w = world();
    assert.ok(await w.store.acquireLock(w.job.jobId, 'someone-else', 60_000));
    await w.worker.tick();
    assert.deepEqual(w.events, [], 'a deferred scheduled snapshot announced itself');
    await assert.rejects(
      w.worker.take(w.job.jobId, `${w.job.jobId}-20261203T000000Z-wxyz`, 'r1'),
      (err: unknown) => err instanceof SnapshotUnavailableError && err.retriable,
    );
    assert.deepEqual(w.events, []);
  });
});
