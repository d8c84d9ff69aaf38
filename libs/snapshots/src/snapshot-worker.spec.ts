import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import {
  opTime,
  TidemarkError,
  type OpTime,
  type SnapshotEvent,
  type SnapshotSchedule,
} from '@tidemark/domain';
import type { EncryptionKey } from './block-codec';
import { MemoryApplyFence, MemoryHeadSource } from './memory-head-source';
import { MemorySnapshotStore } from './memory-snapshot-store';
import { EncryptionKeyError, SnapshotUnavailableError } from './snapshot-errors';
import { MemoryOplogStore } from '@tidemark/oplog-store';
import { oplogSliceId } from '@tidemark/slices';
import { SnapshotWorker, type SnapshotJob, type SnapshotJobSource } from './snapshot-worker';

const MINUTE = 60_000;
const schedule: SnapshotSchedule = {
  intervalMinutes: 60,
  retention: { baseMinutes: 90, daily: 0, weekly: 0, monthly: 0 },
  pointInTimeWindowHours: 24,
};

function world(
  over: {
    schedule?: SnapshotSchedule;
    oplog?: MemoryOplogStore;
    keyFor?: () => Promise<EncryptionKey | undefined>;
  } = {},
) {
  let now = Date.parse('2026-12-03T00:00:00Z');
  const clock = () => now;
  const store = new MemorySnapshotStore(clock);
  const head = new MemoryHeadSource();
  const job: SnapshotJob = {
    jobId: 'job00001',
    syncId: 'job00001-s1',
    schedule: over.schedule ?? schedule,
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
    keyFor: over.keyFor ?? (async () => undefined),
    head,
    fence: new MemoryApplyFence(clock),
    events: { publish: async (e) => void events.push(e) },
    owner: 'me',
    clock,
    log: () => undefined,
    ...(over.oplog === undefined ? {} : { oplog: over.oplog }),
  });
  const kinds = () => events.map((e) => `${e.event}:${e.snapshotId.slice(-4)}`);
  return { worker, store, head, job, active, events, kinds, advance: (ms: number) => (now += ms) };
}

describe('SnapshotWorker', () => {
  it('a scheduled round and an on-demand snapshot of one job exclude each other: the second is busy, none is lost', async () => {
    const w = world();
    // A slow head, so the round's take is still copying when the on-demand one asks for the lock.
    const documents = w.head.documents.bind(w.head);
    w.head.documents = async function* (jobId, syncId, namespace) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield* documents(jobId, syncId, namespace);
    };
    const round = w.worker.tick();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await assert.rejects(
      w.worker.take(w.job.jobId, `${w.job.jobId}-on-demand`, 'request-1'),
      (err: unknown) => err instanceof SnapshotUnavailableError && err.retriable,
    );
    await round;
    assert.deepEqual(
      (await w.store.listSnapshots(w.job.jobId)).map((r) => r.state),
      ['complete'],
    );
    // Retried once the round is done, it goes through.
    const again = await w.worker.take(w.job.jobId, `${w.job.jobId}-on-demand`, 'request-1');
    assert.equal(again?.state, 'complete');
  });

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

  it('a snapshot failing for a reason a retry cannot fix (a bad key) is recorded failed and its command is done; a retriable failure is thrown back', async () => {
    let keyError: Error = new EncryptionKeyError('encryption key from file /k decodes to 48 bytes');
    const w = world({
      keyFor: async () => {
        throw keyError;
      },
    });
    const id = (n: string) => `${w.job.jobId}-20261203T000000Z-${n}`;
    assert.equal(await w.worker.take(w.job.jobId, id('bad1'), 'r1'), undefined);
    assert.equal(w.events.at(-1)?.event, 'failed');
    assert.match(w.events.at(-1)?.reason ?? '', /EncryptionKeyError: encryption key from file \/k/);
    assert.equal(w.events.at(-1)?.requestId, 'r1');
    await w.worker.tick(); // the scheduled one fails alike, and the round goes on
    assert.equal(w.events.at(-1)?.event, 'failed');
    keyError = new TidemarkError('key server unreachable', { retriable: true });
    await assert.rejects(w.worker.take(w.job.jobId, id('bad2'), 'r2'), /key server unreachable/);
  });

  it('a verify whose key cannot be loaded reports the snapshot not verified, naming why', async () => {
    let failing = false;
    const w = world({
      keyFor: async () => {
        if (failing) throw new EncryptionKeyError('no key file /k');
        return undefined;
      },
    });
    const id = `${w.job.jobId}-20261203T000000Z-vfy1`;
    assert.equal((await w.worker.take(w.job.jobId, id, 'r1'))?.state, 'complete');
    failing = true;
    await w.worker.verify(w.job.jobId, id, 'r2');
    assert.deepEqual(w.events.at(-1)?.verify, { ok: false, damagedBlocks: 0 });
    assert.match(w.events.at(-1)?.reason ?? '', /^not verified: EncryptionKeyError: no key file/);
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

  it('grooms the stored oplog past the job point-in-time window, through the newest retained snapshot older than it', async () => {
    const oplog = new MemoryOplogStore();
    const w = world({
      oplog,
      schedule: {
        ...schedule,
        retention: { baseMinutes: 24 * 60, daily: 0, weekly: 0, monthly: 0 },
        pointInTimeWindowHours: 1,
      },
    });
    const put = (from: OpTime, to: OpTime) =>
      oplog.put(
        {
          kind: 'oplog',
          jobId: w.job.jobId,
          syncId: w.job.syncId,
          sliceId: oplogSliceId(w.job.syncId, from, to),
          sequence: 0,
          docCount: 1,
          rawBytes: 1,
          compressedBytes: 1,
          codec: 'none',
          checksum: '0'.repeat(64),
          prevTs: from,
          lastTs: to,
        },
        Buffer.alloc(1),
      );
    const wall = () => new Date(Date.parse('2026-12-03T00:00:00Z'));
    await put(opTime(50, 0), opTime(100, 1));
    await put(opTime(100, 1), opTime(150, 0));
    w.head.setApplied(w.job.jobId, w.job.syncId, opTime(100, 1), wall());
    await w.worker.tick(); // snapshot 1 at 100:1, wall t0: inside the window
    assert.deepEqual(
      await oplog.oldestOplogTs(w.job.jobId, w.job.syncId),
      opTime(50, 0),
      'nothing is older than the window',
    );
    await put(opTime(150, 0), opTime(200, 0));
    w.advance(61 * MINUTE);
    w.head.setApplied(
      w.job.jobId,
      w.job.syncId,
      opTime(200, 0),
      new Date(Date.parse('2026-12-03T01:01:00Z')),
    );
    await w.worker.tick(); // snapshot 2 at 200:0; snapshot 1 is now older than the 1 h window
    const covering = await oplog.findCovering(w.job.jobId, w.job.syncId, opTime(100, 1));
    assert.deepEqual(covering?.lastTs, opTime(150, 0), 'the replay from snapshot 1 still has what it needs');
    assert.deepEqual(
      await oplog.oldestOplogTs(w.job.jobId, w.job.syncId),
      opTime(100, 1),
      'the slice before snapshot 1 went',
    );
    assert.deepEqual(await oplog.latestOplogTs(w.job.jobId, w.job.syncId), opTime(200, 0));
  });
});
