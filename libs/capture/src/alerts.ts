/** The alerts the agent raises (their codes are `ALERT_CODES` of @tidemark/domain). */
import { ALERT_CODES, describeError, formatOpTime, type Alert, type OplogGapError } from '@tidemark/domain';

export function resyncRequiredAlert(
  alertId: string,
  err: OplogGapError,
  syncId: string,
  at: Date = new Date(),
): Alert {
  return {
    alertId,
    jobId: err.jobId,
    severity: 'critical',
    code: ALERT_CODES.resyncRequired,
    message:
      `job ${err.jobId}: backup requires a resync: the source oplog no longer holds position ` +
      `${formatOpTime(err.requestedTs)} (its oldest entry is ${formatOpTime(err.oldestTs)}); oplog tailing stopped`,
    context: {
      syncId,
      requestedTs: formatOpTime(err.requestedTs),
      oldestTs: formatOpTime(err.oldestTs),
    },
    at,
  };
}

export function failureAlert(
  alertId: string,
  code: string,
  jobId: string | null,
  what: string,
  err: unknown,
  context: Record<string, string> = {},
  at: Date = new Date(),
): Alert {
  return {
    alertId,
    jobId,
    severity: 'critical',
    code,
    message: `${jobId === null ? '' : `job ${jobId}: `}${what}: ${describeError(err)}`,
    context,
    at,
  };
}
