/**
 * The alert raised for a rejected slice: `SLICE_REJECTED`, critical, so job-state stops the job's pipeline
 * (marks it blocked) and an operator looks at the dead letter.
 */
import type { SliceRejected } from './ingest-outcome';
import { messageSource, type SliceMessage } from './slice-message';

export const SLICE_REJECTED = 'SLICE_REJECTED';

/** An alert in domain terms; the bus encodes it as `AlertRaised`. */
export interface Alert {
  /** Unique per event; raising the same id again is a no-op for its consumers. */
  readonly alertId: string;
  /** The job concerned, or null when the message names none. */
  readonly jobId: string | null;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly code: string;
  readonly message: string;
  /** Details, all as text. */
  readonly context: Readonly<Record<string, string>>;
  readonly at: Date;
}

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
    alertId: `${SLICE_REJECTED}:${message.topic}:${message.partition}:${message.offset}`,
    jobId: rejected.jobId ?? null,
    severity: 'critical',
    code: SLICE_REJECTED,
    message: `${what} was rejected and dead-lettered; the job's pipeline stops: ${rejected.reason}`,
    context,
    at,
  };
}
