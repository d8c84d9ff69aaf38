/**
 * How the ingest step ended for one message. `stored` and `duplicate` both mean "the slice is durable and its
 * claim check acknowledged"; `rejected` means the message failed a check and must be dead-lettered. Failures of
 * the infrastructure are never an outcome: they are thrown, so the message is redelivered.
 */
import type { SliceMeta } from '@tidemark/domain';

/** The check a rejected message failed, in the order they run. */
export const REJECTION_STAGES = ['decode', 'metadata', 'topic', 'key', 'payload', 'catalog'] as const;
export type RejectionStage = (typeof REJECTION_STAGES)[number];

/** What each stage checks, as the first words of the rejection reason. */
export const REJECTION_STAGE_LABELS: Readonly<Record<RejectionStage, string>> = Object.freeze({
  decode: 'undecodable message',
  metadata: 'invalid slice metadata',
  topic: 'slice on the wrong topic',
  key: 'message key does not match the slice',
  payload: 'bad slice payload',
  catalog: 'bad catalog',
});

/** The slice is durable in the oplog store (now, or already before) and its claim check was acknowledged. */
export interface SliceAccepted {
  readonly kind: 'stored' | 'duplicate';
  readonly meta: SliceMeta;
}

/** The message failed a check; nothing was stored for it. */
export interface SliceRejected {
  readonly kind: 'rejected';
  readonly stage: RejectionStage;
  /** One line: the stage's label, then what exactly was wrong (for the dead-letter header and the alert). */
  readonly reason: string;
  /** The job, from the decoded slice or, when the message does not decode, from its key. */
  readonly jobId?: string;
  /** The slice id, when the message decoded far enough to name it. */
  readonly sliceId?: string;
}

export type IngestOutcome = SliceAccepted | SliceRejected;
