/** Errors of the snapshot feature. */
import { TidemarkError } from '@tidemark/domain';

/** A block a manifest names is not in the store. */
export class BlockMissingError extends TidemarkError {
  override readonly name: string = 'BlockMissingError';
  constructor(
    readonly jobId: string,
    readonly address: string,
    readonly location: string,
  ) {
    super(`block ${address} of job ${jobId} is missing (${location})`, { retriable: false });
  }
}
