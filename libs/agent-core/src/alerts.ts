/** The alerts the agent raises, with their codes (one place, like the bus' topic table). */
import { describeError, formatOpTime, type OplogGapError } from '@tidemark/domain';
import type { AlertReport } from './ports';

export const ALERT_CODES = Object.freeze({
  /** The source oplog no longer holds the job's position: the job needs a resync. */
  resyncRequired: 'RESYNC_REQUIRED',
  /** A transfer (scan or catalog) failed; the sync cannot complete and needs a restart or resync. */
  initialSyncFailed: 'INITIAL_SYNC_FAILED',
  /** The oplog tail of a job failed with an error a retry cannot fix; tailing of the job stopped. */
  tailFailed: 'OPLOG_TAIL_FAILED',
  /** A command could not be carried out (bad parameters, incomplete missing-document fetch, ...). */
  commandFailed: 'AGENT_COMMAND_FAILED',
  /** A job job-state lists has no position to resume its tail from. */
  resumePositionUnknown: 'RESUME_POSITION_UNKNOWN',
});

export function resyncRequiredAlert(alertId: string, err: OplogGapError, syncId: string): AlertReport {
  return {
    alertId,
    jobId: err.jobId,
    severity: 'CRITICAL',
    code: ALERT_CODES.resyncRequired,
    message:
      `job ${err.jobId}: backup requires a resync: the source oplog no longer holds position ` +
      `${formatOpTime(err.requestedTs)} (its oldest entry is ${formatOpTime(err.oldestTs)}); oplog tailing stopped`,
    context: {
      syncId,
      requestedTs: formatOpTime(err.requestedTs),
      oldestTs: formatOpTime(err.oldestTs),
    },
  };
}

export function failureAlert(
  alertId: string,
  code: string,
  jobId: string | null,
  what: string,
  err: unknown,
  context: Record<string, string> = {},
): AlertReport {
  return {
    alertId,
    jobId,
    severity: 'CRITICAL',
    code,
    message: `${jobId === null ? '' : `job ${jobId}: `}${what}: ${describeError(err)}`,
    context,
  };
}
