/**
 * `ApplyScheduler`: runs the apply loop for every job that has oplogs to apply, each under its lease, round-robin.
 *
 * Every `tickMs` (and at once after a wake-up: a `SliceStored` claim, or a turn that stopped at its cap) a tick
 * lists the jobs in `applying-oplogs` or later (`JobPhaseReader`) and gives each, in rotating order, one bounded
 * turn (`ApplyLoop.applyPending`). A job is only worked on under its lease `apply:<jobId>`: acquired when first
 * needed, renewed every `leaseTtlMs / 3` while held (also between turns), released when the job no longer needs
 * applying and at shutdown. The guard a turn gets refuses to write once the lease is lost or could not be renewed
 * in time (80% of the TTL since the last confirmation), so two processes never apply one job at once as long as
 * their clocks agree to well within the TTL.
 *
 * **Apply fence** (docs/format.md, "Snapshot fence"): before it takes or renews a job's lease and after each of the
 * job's turns, the scheduler asks the `FenceStore` whether a fence request of the job stands. While one does, it lets
 * a running turn finish, releases the job's lease and does not take it again until the request is withdrawn or
 * expires; the requester (`ApplyFenceHolder`) takes the lease itself, so mutual exclusion is the lease's. A request
 * that cannot be read counts as none: the scheduler keeps applying under its lease, which the requester then cannot
 * take (safe; the snapshot waits). A job whose apply failed keeps its lease (see below), so it cannot be fenced.
 *
 * A failed turn ends one of three ways:
 * - lease lost (`LeaseLostError`): the job is dropped here; it is taken up again if the lease comes back;
 * - retriable (`isRetriable`): logged, retried at the next tick;
 * - anything else (an unknown command, an unreplayable entry, a corrupt slice): the job's apply stops in this
 *   process, `AlertRaised{APPLY_FAILED, CRITICAL}` is raised once (its id names the sync and the position, so a
 *   repeat from another process or a restart is the same alert), the lease is kept (no other replica retries it
 *   meanwhile) and readiness reports it (`problems`). A new sync of the job clears the failure.
 *
 * `stop()` ends the running turn at its next safe point (the guard refuses further writes; what is stored stays
 * valid), then releases every lease.
 */
import {
  ALERT_CODES,
  LeaseLostError,
  TidemarkError,
  describeError,
  formatOpTime,
  type Alert,
  type StageMetrics,
} from '@tidemark/domain';
import { ApplyTurnError, type ApplyLoop, type ApplyStop, type LeaseGuard } from './apply-loop';
import type { AlertPublisher, ApplyJob, FenceStore, JobPhaseReader, LeaseStore } from './ports';

export interface ApplySchedulerPorts {
  readonly jobs: JobPhaseReader;
  readonly leases: LeaseStore;
  /** Fence requests: a job with one is left alone (its lease released) until it is withdrawn or expires. */
  readonly fences: FenceStore;
  readonly loop: Pick<ApplyLoop, 'applyPending' | 'forget'>;
  readonly alerts: AlertPublisher;
  /** Whether repeating a failed turn can succeed (the app's error tables). */
  readonly isRetriable: (err: unknown) => boolean;
  readonly log: (event: Record<string, unknown>) => void;
  /** Counts the slices and entries each turn applied, and each failed turn by its error's class. Default: nothing. */
  readonly metrics?: StageMetrics;
}

export interface ApplySchedulerOptions {
  /** This process, as lease owner (unique per process). */
  readonly owner: string;
  /** Lease time to live (`TIDEMARK_APPLY_LEASE_MS`). Default 15 000. */
  readonly leaseTtlMs?: number;
  /** Time between ticks. Default 1000. */
  readonly tickMs?: number;
  readonly clock?: () => number;
}

export const DEFAULT_LEASE_TTL_MS = 15_000;
export const DEFAULT_TICK_MS = 1_000;
/** Share of the TTL a confirmed lease is trusted for (the rest is margin for clock skew and slow writes). */
const LEASE_TRUST = 0.8;

/** The name of a job's apply lease. */
export function applyLeaseName(jobId: string): string {
  return `apply:${jobId}`;
}

interface HeldLease {
  /** Until when (clock ms) writes under the lease are allowed. */
  validUntil: number;
  lost: boolean;
}

interface FailedJob {
  readonly syncId: string;
  readonly reason: string;
  readonly alert: Alert;
  alerted: boolean;
}

export class ApplyScheduler {
  private readonly ttl: number;
  private readonly tickMs: number;
  private readonly clock: () => number;
  private readonly held = new Map<string, HeldLease>();
  private readonly failed = new Map<string, FailedJob>();
  private readonly lastStop = new Map<string, ApplyStop>();
  /** Jobs left alone because of a fence request, for logging when that starts and ends. */
  private readonly fenced = new Set<string>();
  /** The job whose turn is running, if any. */
  private turning: string | undefined;
  private listProblem: string | undefined;
  private rotation = 0;
  private timer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private wakeRequested = false;
  private started = false;
  private stopping = false;

  constructor(
    private readonly ports: ApplySchedulerPorts,
    private readonly options: ApplySchedulerOptions,
  ) {
    this.ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.clock = options.clock ?? Date.now;
    if (!Number.isSafeInteger(this.ttl) || this.ttl < 100)
      throw new RangeError(`lease TTL ${this.ttl} ms is too short`);
  }

  /** Why jobs are not being applied (empty while healthy). */
  get problems(): string[] {
    const out = [...this.failed.entries()].map(
      ([jobId, f]) => `job ${jobId} (${f.syncId}): apply stopped: ${f.reason}`,
    );
    if (this.listProblem !== undefined) out.push(this.listProblem);
    return out;
  }

  /** Jobs left alone because a fence request stands, for logs and specs. */
  get fencedJobs(): string[] {
    return [...this.fenced].sort();
  }

  /** Jobs whose lease this process holds, for logs and specs. */
  get heldJobs(): string[] {
    return [...this.held.entries()].filter(([, h]) => !h.lost).map(([jobId]) => jobId);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.renewTimer = setInterval(() => void this.renewAll(), Math.max(50, Math.floor(this.ttl / 3)));
    this.schedule(0);
  }

  /** Something arrived for `jobId` (a slice was stored): tick now instead of at the next interval. */
  wake(jobId: string): void {
    if (!this.started || this.stopping) return;
    this.ports.log({ event: 'apply-wake', jobId });
    if (this.ticking !== undefined) this.wakeRequested = true;
    else this.schedule(0);
  }

  /** Stops ticking, waits for the running turn, releases every lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearInterval(this.renewTimer);
    await this.ticking;
    for (const jobId of [...this.held.keys()]) await this.release(jobId);
  }

  /** One pass over the jobs; resolves true when some job has more to apply at once. Public for specs. */
  async tick(): Promise<boolean> {
    let jobs: ApplyJob[];
    try {
      jobs = await this.ports.jobs.listApplying();
      this.listProblem = undefined;
    } catch (err) {
      const reason = describeError(err);
      this.ports.log({ event: 'apply-jobs-unreadable', reason, retriable: this.ports.isRetriable(err) });
      this.listProblem = this.ports.isRetriable(err) ? undefined : `jobs cannot be listed: ${reason}`;
      return false;
    }
    const current = new Map(jobs.map((job) => [job.jobId, job]));
    for (const jobId of [...this.held.keys()]) if (!current.has(jobId)) await this.release(jobId);
    for (const [jobId, f] of [...this.failed])
      if (current.get(jobId)?.syncId !== f.syncId) this.failed.delete(jobId);

    const ordered = [...current.values()].sort((a, b) =>
      a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0,
    );
    const start = ordered.length === 0 ? 0 : this.rotation % ordered.length;
    this.rotation += 1;
    let more = false;
    for (const job of [...ordered.slice(start), ...ordered.slice(0, start)]) {
      if (this.stopping) break;
      const failure = this.failed.get(job.jobId);
      if (failure !== undefined) {
        if (!failure.alerted) await this.raise(failure);
        continue;
      }
      if (await this.fenceRequested(job.jobId)) {
        await this.yieldToFence(job.jobId);
        continue;
      }
      if (!(await this.ensureLease(job.jobId))) continue;
      more = (await this.turn(job)) || more;
      // Between turns: yield at once rather than at the next tick. A job whose apply just failed keeps its lease.
      if (!this.failed.has(job.jobId) && (await this.fenceRequested(job.jobId)))
        await this.yieldToFence(job.jobId);
    }
    return more;
  }

  /** Whether a fence request of the job stands. One that cannot be read counts as none (the lease keeps it safe). */
  private async fenceRequested(jobId: string): Promise<boolean> {
    let requested: boolean;
    try {
      requested = (await this.ports.fences.current(jobId)) !== undefined;
    } catch (err) {
      this.ports.log({ event: 'apply-fence-unreadable', jobId, reason: describeError(err) });
      return false;
    }
    if (!requested && this.fenced.delete(jobId)) this.ports.log({ event: 'apply-fence-lifted', jobId });
    return requested;
  }

  /** Leaves the job to the fence's holder: releases its lease (if held) so the holder can take it. */
  private async yieldToFence(jobId: string): Promise<void> {
    if (!this.fenced.has(jobId)) {
      this.fenced.add(jobId);
      this.ports.log({ event: 'apply-fenced', jobId });
    }
    if (this.held.has(jobId)) await this.release(jobId);
  }

  private async turn(job: ApplyJob): Promise<boolean> {
    this.turning = job.jobId;
    try {
      const turn = await this.ports.loop.applyPending(job, this.guard(job.jobId));
      this.ports.metrics?.slices('oplog', 'applied', turn.slices, turn.entries, 0);
      this.ports.metrics?.entriesApplied(turn.entries);
      if (
        turn.slices > 0 ||
        turn.missingRequested !== undefined ||
        this.lastStop.get(job.jobId) !== turn.stop
      ) {
        this.ports.log({
          event: 'apply-turn',
          jobId: job.jobId,
          syncId: job.syncId,
          stop: turn.stop,
          slices: turn.slices,
          entries: turn.entries,
          missingRecorded: turn.missingRecorded,
          appliedTs: turn.appliedTs === undefined ? null : formatOpTime(turn.appliedTs),
          ...(turn.missingRequested === undefined ? {} : { missingRequested: turn.missingRequested }),
        });
      }
      this.lastStop.set(job.jobId, turn.stop);
      return turn.morePending;
    } catch (err) {
      await this.onFailure(job, err);
      return false;
    } finally {
      this.turning = undefined;
    }
  }

  private async onFailure(job: ApplyJob, err: unknown): Promise<void> {
    const cause = err instanceof ApplyTurnError ? err.cause : err;
    if (cause instanceof LeaseLostError) {
      this.ports.log({ event: 'apply-lease-lost', jobId: job.jobId, reason: describeError(cause) });
      this.held.delete(job.jobId);
      this.ports.loop.forget(job.jobId);
      return;
    }
    const reason = describeError(cause);
    const retriable = this.ports.isRetriable(cause);
    this.ports.metrics?.failure(cause, retriable);
    if (retriable) {
      this.ports.log({ event: 'apply-retry', jobId: job.jobId, syncId: job.syncId, reason });
      return;
    }
    const at = err instanceof ApplyTurnError ? err.appliedTs : undefined;
    const position = at === undefined ? 'unknown' : formatOpTime(at);
    const failure: FailedJob = {
      syncId: job.syncId,
      reason,
      alerted: false,
      alert: {
        alertId: `${ALERT_CODES.applyFailed}:${job.syncId}:${position}`,
        jobId: job.jobId,
        code: ALERT_CODES.applyFailed,
        severity: 'critical',
        message: `oplog apply of job ${job.jobId} stopped at ${position}: ${reason}`,
        context: {
          syncId: job.syncId,
          appliedTs: position,
          error: cause instanceof Error ? cause.name : typeof cause,
        },
        at: new Date(this.clock()),
      },
    };
    this.failed.set(job.jobId, failure);
    this.ports.log({
      event: 'apply-failed',
      jobId: job.jobId,
      syncId: job.syncId,
      appliedTs: position,
      reason,
    });
    await this.raise(failure);
  }

  private async raise(failure: FailedJob): Promise<void> {
    try {
      await this.ports.alerts.raise(failure.alert);
      failure.alerted = true;
    } catch (err) {
      this.ports.log({ event: 'alert-unsent', alertId: failure.alert.alertId, reason: describeError(err) });
    }
  }

  private guard(jobId: string): LeaseGuard {
    return {
      check: () => {
        // Shutting down: end the turn at the next safe point (everything before it is stored).
        if (this.stopping) throw new TidemarkError('the apply scheduler is stopping', { retriable: true });
        const lease = this.held.get(jobId);
        if (lease === undefined || lease.lost || this.clock() >= lease.validUntil) {
          throw new LeaseLostError({ lease: applyLeaseName(jobId), holder: this.options.owner });
        }
      },
    };
  }

  private async ensureLease(jobId: string): Promise<boolean> {
    const lease = this.held.get(jobId);
    if (lease !== undefined && !lease.lost && this.clock() < lease.validUntil) return true;
    const asked = this.clock();
    try {
      const grant = await this.ports.leases.acquire(applyLeaseName(jobId), this.options.owner, this.ttl);
      if (grant === undefined) {
        this.held.delete(jobId);
        return false;
      }
      if (lease === undefined || lease.lost) this.ports.log({ event: 'apply-lease-acquired', jobId });
      this.held.set(jobId, { validUntil: asked + this.ttl * LEASE_TRUST, lost: false });
      return true;
    } catch (err) {
      this.ports.log({ event: 'apply-lease-unavailable', jobId, reason: describeError(err) });
      return false;
    }
  }

  private async renewAll(): Promise<void> {
    for (const [jobId, lease] of [...this.held]) {
      if (lease.lost || this.stopping) continue;
      // A fence request: give the lease up now unless a turn of the job runs (the tick yields after it).
      if (this.turning !== jobId && !this.failed.has(jobId) && (await this.fenceRequested(jobId))) {
        if (this.turning !== jobId && this.held.get(jobId) === lease) await this.yieldToFence(jobId);
        continue;
      }
      const asked = this.clock();
      try {
        const grant = await this.ports.leases.renew(applyLeaseName(jobId), this.options.owner, this.ttl);
        if (grant === undefined) {
          lease.lost = true;
          this.ports.log({
            event: 'apply-lease-lost',
            jobId,
            reason: 'renewal refused: another owner holds it',
          });
        } else {
          lease.validUntil = asked + this.ttl * LEASE_TRUST;
        }
      } catch (err) {
        // Not confirmed: the guard stops writes once validUntil passes.
        this.ports.log({ event: 'apply-lease-renew-failed', jobId, reason: describeError(err) });
      }
    }
  }

  private async release(jobId: string): Promise<void> {
    const lease = this.held.get(jobId);
    this.held.delete(jobId);
    this.failed.delete(jobId);
    this.lastStop.delete(jobId);
    this.ports.loop.forget(jobId);
    if (lease === undefined || lease.lost) return;
    try {
      await this.ports.leases.release(applyLeaseName(jobId), this.options.owner);
      this.ports.log({ event: 'apply-lease-released', jobId });
    } catch (err) {
      // It expires on its own after the TTL.
      this.ports.log({ event: 'apply-lease-release-failed', jobId, reason: describeError(err) });
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    if (this.ticking !== undefined || this.stopping) return;
    let more = false;
    this.ticking = (async () => {
      try {
        more = await this.tick();
      } catch (err) {
        this.ports.log({ event: 'apply-tick-failed', reason: describeError(err) });
      }
    })();
    await this.ticking;
    this.ticking = undefined;
    const again = more || this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : this.tickMs);
  }
}
