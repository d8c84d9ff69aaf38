/**
 * What the agent does at start-up (docs/pipeline.md, "Restarts"), before it reads any command:
 * - a job in phase `starting` or `transferring` had its transfer interrupted: a half-read scan cannot be trusted,
 *   so a resync is requested (`POST /api/v1/jobs/:id/resync`, reason "agent restarted during transfer");
 * - any other job resumes its tail from its newest stored oplog position (`resumeTs`, else the sync's `startTs`);
 *   if the source no longer holds it, the tail raises RESYNC_REQUIRED ("backup requires a resync") and stops;
 * - a job with neither position raises RESUME_POSITION_UNKNOWN.
 * A resumed tail reads at the job's read limit as job-state lists it.
 * The returned snapshot lets the {@link CommandGate} skip commands the recovery already accounted for.
 */
import { randomUUID } from 'node:crypto';
import { ALERT_CODES, describeError, formatOpTime, type OpTime } from '@tidemark/domain';
import { abortReason, hasRetriableFlag } from '@tidemark/util';
import type { AgentSupervisor } from './agent-supervisor';
import { failureAlert } from './alerts';
import type { StartupSnapshot } from './command-gate';
import {
  silentLogger,
  systemClock,
  type AgentLogger,
  type Clock,
  type JobStateClient,
  type SlicePublisher,
} from './ports';

export const RESYNC_REASON_TRANSFER_INTERRUPTED = 'agent restarted during transfer';

export interface RecoveryDeps {
  readonly jobState: JobStateClient;
  readonly supervisor: Pick<AgentSupervisor, 'resumeTail'>;
  readonly publisher: SlicePublisher;
  readonly clock?: Clock;
  readonly logger?: AgentLogger;
  readonly newId?: () => string;
  /**
   * `<jobId>/<syncId>` of resyncs already requested; kept by the caller across retries of the recovery, so a
   * retry never asks job-state twice for the same sync (a second resync would start yet another sync).
   */
  readonly resyncsRequested?: Set<string>;
  /** Aborting stops the recovery between jobs (shutdown); it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** One job's outcome, for logs and specs. */
export type RecoveryAction =
  | { readonly jobId: string; readonly action: 'resync-requested' }
  | { readonly jobId: string; readonly action: 'tail-resumed'; readonly from: OpTime }
  | { readonly jobId: string; readonly action: 'no-position' }
  | { readonly jobId: string; readonly action: 'failed'; readonly error: string };

/**
 * Runs the recovery. A retriable failure (job-state or Kafka unreachable) rejects: the caller retries the whole
 * recovery. A failure no retry can fix for one job (job-state refuses the resync, ...) is logged and alerted,
 * and the others go on.
 */
export async function recoverJobs(deps: RecoveryDeps): Promise<{
  snapshot: StartupSnapshot & { readonly sourceUris: ReadonlyMap<string, string> };
  actions: RecoveryAction[];
}> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const takenAt = clock.now();
  const jobs = await deps.jobState.listAgentJobs();
  const actions: RecoveryAction[] = [];
  const recoverOne = async (job: (typeof jobs)[number]): Promise<void> => {
    if (job.phase === undefined || job.phase === 'starting' || job.phase === 'transferring') {
      const key = `${job.id}/${job.syncId}`;
      if (!deps.resyncsRequested?.has(key)) {
        await deps.jobState.requestResync(job.id, RESYNC_REASON_TRANSFER_INTERRUPTED);
        deps.resyncsRequested?.add(key);
      }
      logger.event({
        event: 'resync-requested',
        jobId: job.id,
        syncId: job.syncId,
        reason: RESYNC_REASON_TRANSFER_INTERRUPTED,
      });
      actions.push({ jobId: job.id, action: 'resync-requested' });
      return;
    }
    const resume = await deps.jobState.resumeInfo(job.id);
    const from = resume.resumeTs ?? resume.startTs;
    if (from === undefined) {
      const message = `job ${job.id}: cannot resume oplog tailing: job-state knows no stored position for sync ${resume.syncId}`;
      logger.event({ event: 'resume-position-unknown', jobId: job.id, syncId: resume.syncId });
      await deps.publisher
        .publishAlert({
          alertId: (deps.newId ?? randomUUID)(),
          jobId: job.id,
          severity: 'critical',
          code: ALERT_CODES.resumePositionUnknown,
          message,
          context: { syncId: resume.syncId },
          at: new Date(),
        })
        .catch((err: unknown) =>
          logger.event({ event: 'alert-not-published', jobId: job.id, error: describeError(err) }),
        );
      actions.push({ jobId: job.id, action: 'no-position' });
      return;
    }
    await deps.supervisor.resumeTail(
      {
        jobId: job.id,
        syncId: resume.syncId,
        syncNo: resume.syncNo,
        filters: job.filters,
        sourceUri: job.sourceUri,
        readLimit: job.readLimit,
      },
      from,
    );
    logger.event({
      event: 'tail-resume-requested',
      jobId: job.id,
      syncId: resume.syncId,
      from: formatOpTime(from),
    });
    actions.push({ jobId: job.id, action: 'tail-resumed', from });
  };
  for (const job of jobs) {
    if (deps.signal?.aborted) throw abortReason(deps.signal);
    try {
      await recoverOne(job);
    } catch (err) {
      if (hasRetriableFlag(err) || deps.signal?.aborted) throw err;
      logger.event({
        event: 'recovery-failed',
        jobId: job.id,
        syncId: job.syncId,
        error: describeError(err),
      });
      await deps.publisher
        .publishAlert(
          failureAlert(
            (deps.newId ?? randomUUID)(),
            ALERT_CODES.commandFailed,
            job.id,
            'start-up recovery failed',
            err,
            {
              syncId: job.syncId,
            },
          ),
        )
        .catch(() => undefined);
      actions.push({ jobId: job.id, action: 'failed', error: describeError(err) });
    }
  }
  const snapshot = {
    takenAt,
    jobs: new Map(jobs.map((j) => [j.id, { syncId: j.syncId, phase: j.phase }])),
    sourceUris: new Map(jobs.map((j) => [j.id, j.sourceUri])),
  };
  return { snapshot, actions };
}
