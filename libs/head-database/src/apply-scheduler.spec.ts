import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TidemarkError, UnknownOplogCommandError, isRetriable } from '@tidemark/domain';
import { ApplyTurnError, type ApplyTurn, type LeaseGuard } from './apply-loop';
import { ApplyScheduler, applyLeaseName } from './apply-scheduler';
import { MemoryJobPhaseReader } from './memory-job-phase-reader';
import { MemoryFenceStore } from './memory-fence-store';
import { MemoryLeaseStore } from './memory-lease-store';
import type { Alert, StageMetrics } from '@tidemark/domain';
import type { ApplyJob } from './ports';
import { until } from '@tidemark/testing';

const job = (jobId: string, syncNo = 1): ApplyJob => ({
  jobId,
  syncId: `${jobId}-s${syncNo}`,
  syncNo,
  phase: 'applying-oplogs',
});

type Behaviour = (job: ApplyJob, guard: LeaseGuard) => Promise<Partial<ApplyTurn>>;

/** A loop that records which job got a turn and behaves as the test says. */
class ScriptedLoop {
  readonly calls: string[] = [];
  readonly forgotten: string[] = [];
  behaviour: Behaviour = async () => ({});

  async applyPending(j: ApplyJob, guard: LeaseGuard): Promise<ApplyTurn> {
    this.calls.push(j.jobId);
    try {
      const partial = await this.behaviour(j, guard);
      return {
        jobId: j.jobId,
        syncId: j.syncId,
        stop: 'caught-up',
        from: { t: 1, i: 0 },
        appliedTs: { t: 1, i: 0 },
        slices: 0,
        entries: 0,
        missingRecorded: 0,
        morePending: false,
        ...partial,
      };
    } catch (err) {
      throw new ApplyTurnError(j.jobId, j.syncId, { t: 7, i: 3 }, err);
    }
  }

  forget(jobId: string): void {
    this.forgotten.push(jobId);
  }
}

function setup(
  options: {
    owner?: string;
    leases?: MemoryLeaseStore;
    fences?: MemoryFenceStore;
    clock?: () => number;
    tickMs?: number;
  } = {},
) {
  const jobs = new MemoryJobPhaseReader();
  const leases = options.leases ?? new MemoryLeaseStore(options.clock);
  const fences = options.fences ?? new MemoryFenceStore(options.clock);
  const loop = new ScriptedLoop();
  const alerts: Alert[] = [];
  let alertFailures = 0;
  const log: Record<string, unknown>[] = [];
  const counted = { slices: 0, docs: 0, applied: 0, failures: [] as string[] };
  const metrics: StageMetrics = {
    slices: (kind, outcome, count, docs) => {
      assert.deepEqual([kind, outcome], ['oplog', 'applied']);
      counted.slices += count;
      counted.docs += docs;
    },
    entriesApplied: (n) => void (counted.applied += n),
    failure: (err, retriable) => void counted.failures.push(`${(err as Error).name}:${retriable}`),
  };
  const scheduler = new ApplyScheduler(
    {
      jobs,
      leases,
      fences,
      loop,
      alerts: {
        raise: async (alert) => {
          if (alertFailures > 0) {
            alertFailures -= 1;
            throw new TidemarkError('kafka unavailable', { retriable: true });
          }
          alerts.push(alert);
        },
      },
      isRetriable,
      log: (e) => void log.push(e),
      metrics,
    },
    {
      owner: options.owner ?? 'me',
      leaseTtlMs: 1_000,
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    },
  );
  return {
    jobs,
    leases,
    fences,
    loop,
    alerts,
    log,
    counted,
    scheduler,
    failAlerts: (n: number) => void (alertFailures = n),
  };
}

describe('ApplyScheduler', () => {
  it('gives each job one turn per tick, round-robin from a rotating start', async () => {
    const s = setup();
    for (const id of ['c', 'a', 'b']) s.jobs.set(job(id));
    for (let k = 0; k < 3; k++) await s.scheduler.tick();
    assert.deepEqual(s.loop.calls, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
  });

  it('works on a job only under its lease; another process takes over once it is released', async () => {
    const leases = new MemoryLeaseStore();
    const one = setup({ owner: 'one', leases });
    const two = setup({ owner: 'two', leases });
    for (const s of [one, two]) s.jobs.set(job('a'));
    await one.scheduler.tick();
    await two.scheduler.tick();
    assert.deepEqual([one.loop.calls, two.loop.calls], [['a'], []]);
    assert.equal(leases.holder(applyLeaseName('a')), 'one');
    await one.scheduler.stop();
    assert.equal(leases.holder(applyLeaseName('a')), undefined, 'released at shutdown');
    await two.scheduler.tick();
    assert.deepEqual(two.loop.calls, ['a']);
  });

  it('releases the lease of a job that no longer needs applying', async () => {
    const s = setup();
    s.jobs.set(job('a'));
    await s.scheduler.tick();
    assert.equal(s.leases.holder(applyLeaseName('a')), 'me');
    s.jobs.remove('a');
    await s.scheduler.tick();
    assert.equal(s.leases.holder(applyLeaseName('a')), undefined);
    assert.deepEqual(s.loop.forgotten, ['a']);
  });

  it('a fatal failure raises APPLY_FAILED once, stops that job only and shows in problems', async () => {
    const s = setup();
    s.jobs.set(job('a'));
    s.jobs.set(job('b'));
    s.loop.behaviour = async (j) => {
      if (j.jobId === 'a') throw new UnknownOplogCommandError({ command: 'frobnicate', ts: { t: 7, i: 4 } });
      return {};
    };
    await s.scheduler.tick();
    await s.scheduler.tick();
    assert.deepEqual(s.loop.calls.sort(), ['a', 'b', 'b']);
    assert.equal(s.alerts.length, 1);
    assert.deepEqual(
      { ...s.alerts[0], message: undefined, at: undefined },
      {
        alertId: 'APPLY_FAILED:a-s1:7:3',
        jobId: 'a',
        code: 'APPLY_FAILED',
        severity: 'critical',
        message: undefined,
        context: { syncId: 'a-s1', appliedTs: '7:3', error: 'UnknownOplogCommandError' },
        at: undefined,
      },
    );
    assert.ok(s.alerts[0]?.at instanceof Date);
    assert.match(s.alerts[0]?.message ?? '', /frobnicate/);
    assert.equal(s.scheduler.problems.length, 1);
    assert.match(s.scheduler.problems[0] ?? '', /job a \(a-s1\): apply stopped: .*frobnicate/);
    assert.equal(
      s.leases.holder(applyLeaseName('a')),
      'me',
      'the lease is kept: no other process retries it',
    );

    // A new sync of the job starts afresh.
    s.loop.behaviour = async () => ({});
    s.jobs.set(job('a', 2));
    await s.scheduler.tick();
    assert.deepEqual(s.scheduler.problems, []);
    assert.equal(s.loop.calls.filter((c) => c === 'a').length, 2);
  });

  it('counts the slices and entries each turn applied, and failed turns by error class', async () => {
    const s = setup();
    s.jobs.set(job('a'));
    let turn = 0;
    s.loop.behaviour = async () => {
      turn += 1;
      if (turn === 2) throw new TidemarkError('network blip', { retriable: true });
      if (turn === 3) throw new UnknownOplogCommandError({ command: 'frobnicate', ts: { t: 7, i: 4 } });
      return { slices: 3, entries: 40 };
    };
    for (let k = 0; k < 3; k++) await s.scheduler.tick();
    assert.deepEqual(s.counted, {
      slices: 3,
      docs: 40,
      applied: 40,
      failures: ['TidemarkError:true', 'UnknownOplogCommandError:false'],
    });
  });

  it('retries a retriable failure at the next tick, without an alert', async () => {
    const s = setup();
    s.jobs.set(job('a'));
    let fail = true;
    s.loop.behaviour = async () => {
      if (fail) {
        fail = false;
        throw new TidemarkError('network blip', { retriable: true });
      }
      return {};
    };
    await s.scheduler.tick();
    await s.scheduler.tick();
    assert.deepEqual(s.loop.calls, ['a', 'a']);
    assert.deepEqual(s.alerts, []);
    assert.deepEqual(s.scheduler.problems, []);
    assert.ok(s.log.some((e) => e['event'] === 'apply-retry'));
  });

  it('publishes the alert again at the next tick when publishing failed', async () => {
    const s = setup();
    s.jobs.set(job('a'));
    s.failAlerts(1);
    s.loop.behaviour = async () => {
      throw new TidemarkError('corrupt', { retriable: false });
    };
    await s.scheduler.tick();
    assert.equal(s.alerts.length, 0);
    await s.scheduler.tick();
    assert.equal(s.alerts.length, 1);
    assert.deepEqual(s.loop.calls, ['a'], 'the job is not applied again meanwhile');
  });

  it('stops writes once the lease is not confirmed in time, and takes the job up again later', async () => {
    let now = 0;
    const s = setup({ clock: () => now });
    s.jobs.set(job('a'));
    s.loop.behaviour = async (_j, guard) => {
      now += 900; // past 80% of the 1 s TTL without a renewal
      guard.check();
      return {};
    };
    await s.scheduler.tick();
    assert.deepEqual(s.alerts, []);
    assert.deepEqual(s.scheduler.heldJobs, []);
    assert.ok(s.log.some((e) => e['event'] === 'apply-lease-lost'));
    s.loop.behaviour = async (_j, guard) => {
      guard.check();
      return {};
    };
    await s.scheduler.tick();
    assert.deepEqual(s.scheduler.heldJobs, ['a']);
    assert.deepEqual(s.loop.calls, ['a', 'a']);
  });

  it('ticks every interval, at once on a wake-up or when a turn stopped at its cap, and stops cleanly', async () => {
    const s = setup({ tickMs: 60_000 });
    s.jobs.set(job('a'));
    let capped = 2;
    s.loop.behaviour = async () => {
      if (capped > 0) {
        capped -= 1;
        return { stop: 'turn-cap', morePending: true };
      }
      return {};
    };
    s.scheduler.start();
    try {
      // Waits are bounded polls, not fixed sleeps: on a loaded machine a fixed 100 ms may pass before a turn runs.
      await until('the first tick and two immediate ones', () => s.loop.calls.length >= 3, 10_000);
      await sleep(100);
      assert.equal(s.loop.calls.length, 3, 'first tick, then two immediate ones while more was pending');
      s.scheduler.wake('a');
      await until('the woken turn', () => s.loop.calls.length >= 4, 10_000);
      assert.equal(s.loop.calls.length, 4, 'woken');
    } finally {
      await s.scheduler.stop(); // never leave its timers running: the spec file would not end
    }
    assert.equal(s.leases.holder(applyLeaseName('a')), undefined);
    s.scheduler.wake('a');
    await sleep(50);
    assert.equal(s.loop.calls.length, 4, 'no tick after stop');
  });

  describe('with a fence request', () => {
    it('finishes the running turn, releases the lease, applies nothing while it stands, and resumes after', async () => {
      const s = setup();
      s.jobs.set(job('a'));
      s.jobs.set(job('b'));
      let requestDuringTurn = true;
      s.loop.behaviour = async (j) => {
        if (j.jobId === 'a' && requestDuringTurn) {
          requestDuringTurn = false;
          assert.ok(await s.fences.request('a', 'snapshotter', 60_000), 'requested while the turn runs');
        }
        return {};
      };
      await s.scheduler.tick();
      assert.deepEqual(s.loop.calls, ['a', 'b'], 'the running turn of a finished');
      assert.equal(s.leases.holder(applyLeaseName('a')), undefined, 'released right after the turn');
      assert.deepEqual(s.scheduler.fencedJobs, ['a']);
      assert.deepEqual(s.loop.forgotten, ['a']);

      for (let k = 0; k < 3; k++) await s.scheduler.tick();
      assert.deepEqual(
        s.loop.calls.filter((c) => c === 'a'),
        ['a'],
        'no turn of a while fenced',
      );
      assert.equal(s.loop.calls.filter((c) => c === 'b').length, 4, 'other jobs go on');
      assert.equal(s.leases.holder(applyLeaseName('a')), undefined, 'the lease is not taken again');
      assert.ok(await s.leases.acquire(applyLeaseName('a'), 'snapshotter', 60_000), 'free for the fence');

      await s.leases.release(applyLeaseName('a'), 'snapshotter');
      await s.fences.withdraw('a', 'snapshotter');
      await s.scheduler.tick();
      assert.equal(s.loop.calls.filter((c) => c === 'a').length, 2, 'resumed after the request went');
      assert.deepEqual(s.scheduler.fencedJobs, []);
      assert.deepEqual(
        s.log.filter((e) => String(e['event']).startsWith('apply-fence')).map((e) => e['event']),
        ['apply-fenced', 'apply-fence-lifted'],
      );
    });

    it('does not take the lease of a job fenced before its first turn', async () => {
      const s = setup();
      s.jobs.set(job('a'));
      assert.ok(await s.fences.request('a', 'snapshotter', 60_000));
      await s.scheduler.tick();
      assert.deepEqual(s.loop.calls, []);
      assert.equal(s.leases.holder(applyLeaseName('a')), undefined);
    });

    it('resumes once a request expires (its holder died) and the fence’s lease is gone', async () => {
      let now = 1_000;
      const s = setup({ clock: () => now });
      s.jobs.set(job('a'));
      assert.ok(await s.fences.request('a', 'snapshotter', 500));
      assert.ok(await s.leases.acquire(applyLeaseName('a'), 'snapshotter', 500));
      await s.scheduler.tick();
      assert.deepEqual(s.loop.calls, []);
      now += 600;
      await s.scheduler.tick();
      assert.deepEqual(s.loop.calls, ['a']);
      assert.equal(s.leases.holder(applyLeaseName('a')), 'me');
    });

    it('between turns, the renewal gives the lease up instead of renewing it', async () => {
      const s = setup({ tickMs: 60_000 });
      s.jobs.set(job('a'));
      s.scheduler.start();
      try {
        await until('the first turn', () => s.loop.calls.length >= 1, 10_000);
        await until('the lease held', () => s.leases.holder(applyLeaseName('a')) === 'me', 10_000);
        assert.ok(await s.fences.request('a', 'snapshotter', 60_000));
        // Ticks are a minute apart: only the renewal (every TTL/3 = 333 ms) can let go.
        await until('the lease released', () => s.leases.holder(applyLeaseName('a')) === undefined, 10_000);
        assert.deepEqual(s.scheduler.fencedJobs, ['a']);
        assert.equal(s.loop.calls.length, 1);
      } finally {
        await s.scheduler.stop();
      }
    });

    it('a job whose apply failed keeps its lease and its failure, fence or not', async () => {
      const s = setup();
      s.jobs.set(job('a'));
      s.loop.behaviour = async () => {
        assert.ok(await s.fences.request('a', 'snapshotter', 60_000));
        throw new TidemarkError('corrupt', { retriable: false });
      };
      await s.scheduler.tick();
      await s.scheduler.tick();
      assert.equal(s.leases.holder(applyLeaseName('a')), 'me', 'no other process retries it');
      assert.equal(s.scheduler.problems.length, 1);
      assert.equal(s.alerts.length, 1);
      assert.deepEqual(s.loop.calls, ['a']);
    });

    it('a request that cannot be read counts as none: applying goes on under the lease', async () => {
      const s = setup();
      s.jobs.set(job('a'));
      s.fences.current = async () => {
        throw new TidemarkError('meta database unreachable', { retriable: true });
      };
      await s.scheduler.tick();
      assert.deepEqual(s.loop.calls, ['a']);
      assert.equal(s.leases.holder(applyLeaseName('a')), 'me');
      assert.ok(s.log.some((e) => e['event'] === 'apply-fence-unreadable'));
    });
  });
});
