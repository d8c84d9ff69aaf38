/**
 * The agent's jobs: at most one piece of work per job (an initial sync with its tail, or a resumed tail), started
 * and stopped by commands and by the start-up recovery.
 *
 * - `startSync` stops whatever the job was doing, then starts an initial sync; it resolves once
 *   `PhaseChanged{TRANSFERRING}` is acknowledged (the effect has begun durably) and rejects if that step failed.
 *   The transfer then runs in the background; when it fails, `INITIAL_SYNC_FAILED` is raised and the job's work
 *   (its tail included) stops: a half-done transfer cannot be trusted, the job needs a restart or resync.
 * - `resumeTail` stops whatever the job was doing and tails from a stored position (gap-checked by the tail).
 * - A tail that hits a gap raises `RESYNC_REQUIRED` and stops (see {@link TailKeeper}).
 * - `stop` / `stopAll` abort the work and wait until it has settled.
 * - Every read of a job's source goes through the job's read limit ({@link JobReadLimits}): the scan, the tail and
 *   missing-document fetches. A job's spec carries its limit as the command (or job-state, at start-up) gave it;
 *   `readLimits.set` changes it while the work runs.
 */
import { randomUUID } from 'node:crypto';
import {
  ALERT_CODES,
  describeError,
  formatOpTime,
  type Alert,
  type OpTime,
  type ReadLimit,
  type StageMetrics,
} from '@tidemark/domain';
import type { AgentSettings } from './agent-settings';
import { failureAlert, publishAlertOrLog } from './alerts';
import { InitialSync, type TransferResult } from './initial-sync';
import { MissingFetch, type FetchMissingBatch } from './missing-fetch';
import {
  silentLogger,
  systemClock,
  type AgentLogger,
  type CapturePosition,
  type Clock,
  type SlicePublisher,
  type SourceReader,
} from './ports';
import { JobReadLimits } from './read-limits';
import type { SyncJob } from './sync-job';
import { TailKeeper, type TailEnd } from './tail-keeper';

/** A job as the supervisor runs it: the sync, where its source is, and how fast it may read it. */
export interface JobSpec extends SyncJob {
  readonly sourceUri: string;
  /** MB/s; undefined: uncapped. */
  readonly readLimit?: ReadLimit | undefined;
}

export interface AgentSupervisorDeps {
  /** The source deployment at `uri` (connections are the caller's to cache and close). */
  readonly sourceFor: (uri: string) => Promise<SourceReader>;
  readonly publisher: SlicePublisher;
  readonly settings: AgentSettings;
  readonly clock?: Clock;
  readonly logger?: AgentLogger;
  readonly newId?: () => string;
  /** Counts a failed transfer and the tails' failures by error class. */
  readonly metrics?: Pick<StageMetrics, 'failure'>;
  /** The jobs' read limits (default: a new registry of the supervisor's own). */
  readonly readLimits?: JobReadLimits;
}

/** What a job is doing. */
export interface JobActivity {
  readonly syncId: string;
  readonly syncNo: number;
  readonly sourceUri: string;
  readonly kind: 'initial-sync' | 'tail';
  /** Settles when the job's work ended (stopped, failed, or a gap). */
  readonly done: Promise<void>;
  /** Last acknowledged oplog slice position. */
  shippedTs(): OpTime;
  /** Newest source oplog position the job's tail has seen (for capture lag). */
  sourceTs(): OpTime;
  /** Resolves with the transfer result (initial syncs only). */
  readonly transfer: Promise<TransferResult> | undefined;
}

interface RunningJob {
  readonly activity: JobActivity;
  readonly controller: AbortController;
}

export class AgentSupervisor {
  private readonly jobs = new Map<string, RunningJob>();
  private readonly missing: MissingFetch;
  private readonly logger: AgentLogger;
  private readonly newId: () => string;
  /** Each job's read limit; `set` applies to the job's running work. */
  readonly readLimits: JobReadLimits;

  constructor(private readonly deps: AgentSupervisorDeps) {
    this.logger = deps.logger ?? silentLogger;
    this.newId = deps.newId ?? randomUUID;
    this.missing = new MissingFetch(deps);
    this.readLimits = deps.readLimits ?? new JobReadLimits({ logger: this.logger });
  }

  /** What `jobId` is doing, if anything. */
  activity(jobId: string): JobActivity | undefined {
    return this.jobs.get(jobId)?.activity;
  }

  /**
   * Where each running job's capture is: the newest source position its tail has seen and the newest shipped
   * (acknowledged) oplog slice end, for the capture lag.
   */
  capturePositions(): CapturePosition[] {
    return [...this.jobs.entries()].map(([jobId, { activity }]) => ({
      jobId,
      syncId: activity.syncId,
      sourceTs: activity.sourceTs(),
      shippedTs: activity.shippedTs(),
    }));
  }

  /** START / RESTART / RESYNC (see the module comment). */
  async startSync(job: JobSpec): Promise<JobActivity> {
    await this.stop(job.jobId);
    const source = this.jobSource(job, 'command');
    const controller = new AbortController();
    const sync = new InitialSync({ ...this.deps, source, clock: this.deps.clock ?? systemClock });
    const started = await sync.start(job, controller.signal);
    const transfer = started.transfer.catch(async (err: unknown) => {
      if (!controller.signal.aborted) {
        this.deps.metrics?.failure(err, false);
        this.logger.event({
          event: 'transfer-failed',
          jobId: job.jobId,
          syncId: job.syncId,
          error: describeError(err),
        });
        await this.alert(
          failureAlert(
            this.newId(),
            ALERT_CODES.initialSyncFailed,
            job.jobId,
            'the initial sync failed',
            err,
            {
              syncId: job.syncId,
            },
          ),
        );
        controller.abort(err);
      }
      throw err;
    });
    const done = Promise.allSettled([transfer, started.tail.done]).then(([, tailEnd]) =>
      this.ended(job, tailEnd.status === 'fulfilled' ? tailEnd.value : 'failed'),
    );
    const activity: JobActivity = {
      syncId: job.syncId,
      syncNo: job.syncNo,
      sourceUri: job.sourceUri,
      kind: 'initial-sync',
      done,
      shippedTs: started.tail.shippedTs,
      sourceTs: started.tail.sourceTs,
      transfer,
    };
    transfer.catch(() => undefined);
    this.track(job.jobId, activity, controller);
    return activity;
  }

  /** Resumes tailing `job` after `fromTs` (its newest stored oplog position). */
  async resumeTail(job: JobSpec, fromTs: OpTime): Promise<JobActivity> {
    await this.stop(job.jobId);
    // Connected on first use: a source that is down now makes the tail retry, not the caller fail.
    const source = this.jobSource(job, 'recovery');
    const controller = new AbortController();
    const tail = new TailKeeper({ ...this.deps, source }).start(job, fromTs, controller.signal);
    this.logger.event({
      event: 'tail-resumed',
      jobId: job.jobId,
      syncId: job.syncId,
      from: formatOpTime(fromTs),
    });
    const activity: JobActivity = {
      syncId: job.syncId,
      syncNo: job.syncNo,
      sourceUri: job.sourceUri,
      kind: 'tail',
      done: tail.done.then((end) => this.ended(job, end)),
      shippedTs: tail.shippedTs,
      sourceTs: tail.sourceTs,
      transfer: undefined,
    };
    this.track(job.jobId, activity, controller);
    return activity;
  }

  /** FETCH_MISSING_DOCUMENTS: one batch; resolves once its slices (and catalog, after the last) are acknowledged. */
  fetchMissing(batch: FetchMissingBatch, source: SourceReader): Promise<{ catalogPublished: boolean }> {
    return this.missing.run(batch, this.readLimits.throttled(source, batch.jobId));
  }

  /** STOP / TERMINATE: stops the job's scan and tail; resolves when they have stopped. */
  async stop(jobId: string): Promise<void> {
    const running = this.jobs.get(jobId);
    if (running === undefined) return;
    running.controller.abort(new Error(`job ${jobId} stopped`));
    await running.activity.done;
  }

  /** Stops every job (shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.jobs.keys()].map((jobId) => this.stop(jobId)));
  }

  /** The job's source for a new piece of work: connected on first use, paced by the job's (renewed) limit. */
  private jobSource(job: JobSpec, from: string): SourceReader {
    this.readLimits.set(job.jobId, job.readLimit, from);
    this.readLimits.renew(job.jobId);
    return this.readLimits.throttled(lazySource(this.deps.sourceFor, job.sourceUri), job.jobId);
  }

  private track(jobId: string, activity: JobActivity, controller: AbortController): void {
    const running: RunningJob = { activity, controller };
    this.jobs.set(jobId, running);
    void activity.done.then(() => {
      if (this.jobs.get(jobId) === running) this.jobs.delete(jobId);
    });
  }

  private ended(job: JobSpec, end: TailEnd): void {
    this.logger.event({ event: 'job-work-ended', jobId: job.jobId, syncId: job.syncId, tail: end });
  }

  private async alert(alert: Alert): Promise<void> {
    await publishAlertOrLog(this.deps.publisher, alert, this.logger);
  }
}

/** A `SourceReader` that resolves the deployment at `uri` on each use (the resolver caches connections). */
export function lazySource(sourceFor: (uri: string) => Promise<SourceReader>, uri: string): SourceReader {
  const get = () => sourceFor(uri);
  return {
    info: async () => (await get()).info(),
    latestOplogTs: async () => (await get()).latestOplogTs(),
    listNamespaces: async (filters) => (await get()).listNamespaces(filters),
    scan: async function* (ns, options) {
      yield* (await get()).scan(ns, options);
    },
    tail: async function* (jobId, prevTs, filters, signal) {
      yield* (await get()).tail(jobId, prevTs, filters, signal);
    },
    fetchByIds: async function* (ns, ids) {
      yield* (await get()).fetchByIds(ns, ids);
    },
  };
}
