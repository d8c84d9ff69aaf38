/** The alerts the agent raises (their codes are `ALERT_CODES` of @tidemark/domain). */
import { ALERT_CODES, describeError, formatOpTime, type Alert, type OplogGapError } from '@tidemark/domain';
import { ALERT_PUBLISH, retry } from '@tidemark/util';
import type { AgentLogger, SlicePublisher } from './ports';

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

/**
 * Publishes an alert, retrying retriable failures (`ALERT_PUBLISH`); a final failure is logged
 * (`alert-not-published`), not thrown: the work that raised it has ended either way, and the log line carries the
 * same message.
 */
export async function publishAlertOrLog(
  publisher: Pick<SlicePublisher, 'publishAlert'>,
  alert: Alert,
  logger: AgentLogger,
): Promise<void> {
  try {
    await retry(() => publisher.publishAlert(alert), {
      maxAttempts: 5,
      backoff: ALERT_PUBLISH,
      what: `publish alert ${alert.code}`,
    });
  } catch (err) {
    logger.event({
      event: 'alert-not-published',
      code: alert.code,
      jobId: alert.jobId,
      error: describeError(err),
    });
  }
}
