import { TidemarkError } from '@tidemark/domain';

/**
 * Writing a slice to the oplog store failed. `retriable` comes from the store's error classification
 * (`classifyMongoError`): a network error or a retryable-write label is retriable, anything unknown is fatal.
 * Never a reason to reject the slice: the message stays uncommitted.
 */
export class SliceStoreError extends TidemarkError {
  override readonly name: string = 'SliceStoreError';
  readonly sliceId: string;
  readonly jobId: string;

  constructor(details: {
    sliceId: string;
    jobId: string;
    retriable: boolean;
    reason: string;
    cause?: unknown;
  }) {
    super(
      `oplog store: storing slice ${details.sliceId} of job ${details.jobId} failed ` +
        `(${details.retriable ? 'retriable' : 'fatal'}): ${details.reason}`,
      { retriable: details.retriable, cause: details.cause },
    );
    this.sliceId = details.sliceId;
    this.jobId = details.jobId;
  }
}
