// The apply fence against the backup-side server: MongoFenceStore's contract and format version, and a running
// ApplyScheduler over the real MongoLeaseStore and MongoFenceStore fenced by MongoApplyFence.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { isRetriable, UnknownFormatVersionError } from '@tidemark/domain';
import {
  ApplyScheduler,
  MemoryJobPhaseReader,
  applyLeaseName,
  type ApplyJob,
  type ApplyTurn,
  type LeaseGuard,
} from '@tidemark/head-database';
import { describeFenceStore } from '@tidemark/head-database-contract';
import { until, uniqueDbName } from '@tidemark/testing';
import { Backoff } from '@tidemark/util';
import { MongoApplyFence } from './mongo-apply-fence';
import { FENCE_FORMAT, MongoFenceStore } from './mongo-fence-store';
import { MongoLeaseStore } from './mongo-lease-store';

let client: MongoClient | undefined;
async function connect(): Promise<MongoClient> {
  client ??= await new MongoClient(resolveEndpoints().backup.uri).connect();
  return client;
}
after(async () => {
  await client?.close();
});

describeFenceStore('MongoFenceStore on the backup-side server', async () => {
  const c = await connect();
  const db = uniqueDbName('t_fence');
  return { store: new MongoFenceStore(c, db), dispose: async () => void (await c.db(db).dropDatabase()) };
});

describe('fence requests: format version', () => {
  it('writes v: 1, reads one without v, and never replaces, renews or withdraws an unknown version', async () => {
    const c = await connect();
    const db = uniqueDbName('t_fence_v');
    const fences = c.db(db).collection<Record<string, unknown> & { _id: string }>('fences');
    const store = new MongoFenceStore(c, db);
    try {
      assert.ok(await store.request('j0', 'me', 60_000));
      assert.equal((await fences.findOne({ _id: 'j0' }))?.['v'], FENCE_FORMAT.current);
      await fences.updateOne({ _id: 'j0' }, { $unset: { v: '' } });
      assert.ok(await store.renew('j0', 'me', 60_000), 'a request without v is version 1');

      const future = { _id: 'jf', v: 2, owner: 'me', expiresAt: new Date(0), requestedAt: new Date(0) };
      await fences.insertOne(future);
      const refused = (err: unknown) =>
        err instanceof UnknownFormatVersionError &&
        err.recordKind === 'snapshot fence' &&
        err.where === `${db}.fences _id "jf"`;
      await assert.rejects(store.request('jf', 'other', 60_000), refused);
      await assert.rejects(store.renew('jf', 'me', 60_000), refused);
      await assert.rejects(store.withdraw('jf', 'me'), refused);
      await assert.rejects(store.current('jf'), refused);
      assert.deepEqual(await fences.findOne({ _id: 'jf' }), future, 'never written over');
    } finally {
      await c.db(db).dropDatabase();
    }
  });
});

describe('MongoApplyFence with a running ApplyScheduler', () => {
  const fast = new Backoff({ initialMs: 20, maxMs: 100, jitter: 'equal' });

  /** A scheduler over the real lease and fence stores whose loop counts the turns that passed the lease guard. */
  async function running(db: string, jobId: string) {
    const c = await connect();
    const jobs = new MemoryJobPhaseReader();
    const job: ApplyJob = { jobId, syncId: `${jobId}-s1`, syncNo: 1, phase: 'applying-oplogs' };
    jobs.set(job);
    const applied: number[] = [];
    const loop = {
      applyPending: async (j: ApplyJob, guard: LeaseGuard): Promise<ApplyTurn> => {
        guard.check(); // what the real loop does before every write
        applied.push(Date.now());
        return {
          jobId: j.jobId,
          syncId: j.syncId,
          stop: 'caught-up',
          from: { t: 1, i: 0 },
          appliedTs: { t: 1, i: 0 },
          slices: 1,
          entries: 1,
          missingRecorded: 0,
          morePending: false,
        };
      },
      forget: () => undefined,
    };
    const log: Record<string, unknown>[] = [];
    const scheduler = new ApplyScheduler(
      {
        jobs,
        leases: new MongoLeaseStore(c, db),
        fences: new MongoFenceStore(c, db),
        loop,
        alerts: { raise: async () => undefined },
        isRetriable,
        log: (e) => void log.push(e),
      },
      { owner: 'applier', leaseTtlMs: 1_500, tickMs: 50 },
    );
    scheduler.start();
    const turnsSoon = async (what: string) => {
      const before = applied.length;
      await until(what, () => applied.length >= before + 2, 15_000);
    };
    await turnsSoon('the scheduler applying');
    return { c, scheduler, applied, log, turnsSoon, fence: new MongoApplyFence(c, db, { wait: fast }) };
  }

  it('applies nothing while a fence is held, and resumes after release', async () => {
    const db = uniqueDbName('t_fence_run');
    const r = await running(db, 'fa');
    try {
      const grant = await r.fence.hold('fa', 'snapshot-1', 10_000, 10_000);
      assert.equal(grant?.owner, 'snapshot-1');
      const lease = await r.c
        .db(db)
        .collection('leases')
        .findOne({ _id: applyLeaseName('fa') } as object);
      assert.equal(lease?.['owner'], 'snapshot-1', 'the apply lease is the fence’s');
      const during = r.applied.length;
      await sleep(1_500); // many ticks and renewals
      assert.equal(r.applied.length, during, 'no turn while fenced');
      assert.deepEqual(r.scheduler.fencedJobs, ['fa']);

      await r.fence.release('fa', 'snapshot-1');
      await r.turnsSoon('applying again after release');
      assert.deepEqual(r.scheduler.fencedJobs, []);
    } finally {
      await r.scheduler.stop();
      await r.c.db(db).dropDatabase();
    }
  });

  it('resumes once the fence of a holder that died expires', async () => {
    const db = uniqueDbName('t_fence_dead');
    const r = await running(db, 'fb');
    try {
      assert.ok(await r.fence.hold('fb', 'snapshot-dead', 800, 10_000));
      const during = r.applied.length;
      await sleep(300);
      assert.equal(r.applied.length, during, 'fenced');
      // Never renewed nor released: the holder died. The request and the lease expire after 800 ms.
      await r.turnsSoon('applying again after expiry');
      assert.equal(await r.fence.renew('fb', 'snapshot-dead', 800), undefined, 'the dead holder lost it');
    } finally {
      await r.scheduler.stop();
      await r.c.db(db).dropDatabase();
    }
  });

  it('two fence holders exclude each other', async () => {
    const db = uniqueDbName('t_fence_two');
    const r = await running(db, 'fc');
    try {
      assert.ok(await r.fence.hold('fc', 'snapshot-1', 10_000, 10_000));
      const other = new MongoApplyFence(r.c, db, { wait: fast });
      assert.equal(await other.hold('fc', 'snapshot-2', 10_000, 500), undefined);
      const renewed = await r.fence.renew('fc', 'snapshot-1', 10_000);
      assert.equal(renewed?.owner, 'snapshot-1', 'the first holder keeps it');
      await r.fence.release('fc', 'snapshot-1');
      const second = await other.hold('fc', 'snapshot-2', 10_000, 10_000);
      assert.equal(second?.owner, 'snapshot-2');
      await other.release('fc', 'snapshot-2');
      await r.turnsSoon('applying again');
    } finally {
      await r.scheduler.stop();
      await r.c.db(db).dropDatabase();
    }
  });
});
