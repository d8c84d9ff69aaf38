/**
 * The alert raised for a rejected slice: `SLICE_REJECTED`, critical, so job-state stops the job's pipeline
 * (marks it blocked) and an operator looks at the dead letter.
 */
import { ALERT_CODES, type Alert } from '@tidemark/domain';
import type { SliceRejected } from './ingest-outcome';
import { messageSource, type SliceMessage } from './slice-message';

/**
 * The `SLICE_REJECTED` alert of a rejected message. Its id is derived from the message's position
 * (`SLICE_REJECTED:<topic>:<partition>:<offset>`), so a redelivered message raises the same alert again, not a
 * second one. Context: `topic`, `partition`, `offset`, `stage`, `reason`, and `sliceId` when the message decoded
 * far enough to name its slice.
 */
export function sliceRejectedAlert(message: SliceMessage, rejected: SliceRejected, at: Date): Alert {
  const context: Record<string, string> = {
    topic: message.topic,
    partition: String(message.partition),
    offset: message.offset,
    stage: rejected.stage,
    reason: rejected.reason,
  };
  if (rejected.sliceId !== undefined) context['sliceId'] = rejected.sliceId;
  const what =
    rejected.sliceId === undefined ? `message ${messageSource(message)}` : `slice ${rejected.sliceId}`;
  return {
    alertId: `${ALERT_CODES.sliceRejected}:${message.topic}:${message.partition}:${message.offset}`,
    jobId: rejected.jobId ?? null,
    severity: 'critical',
    code: ALERT_CODES.sliceRejected,
    message: `${what} was rejected and dead-lettered; the job's pipeline stops: ${rejected.reason}`,
    context,
    at,
  };
}
