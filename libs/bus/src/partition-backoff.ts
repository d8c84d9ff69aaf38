/**
 * How long a partition waits before a message that failed retriably is delivered again: a {@link Backoff} policy
 * (by default `PARTITION_RETRY` of `@tidemark/util`: 1 s doubling up to 30 s, equal jitter) over the consecutive
 * failures of that partition. A success resets the partition.
 */
import { PARTITION_RETRY, type Backoff } from '@tidemark/util';

export class PartitionBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly policy: Backoff = PARTITION_RETRY,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records one more failure of `partitionKey` and returns the wait before the next attempt, ms. */
  next(partitionKey: string): number {
    const attempt = (this.failures.get(partitionKey) ?? 0) + 1;
    this.failures.set(partitionKey, attempt);
    return this.policy.delayMs(attempt, this.random);
  }

  /** Consecutive failures of `partitionKey` so far. */
  failuresOf(partitionKey: string): number {
    return this.failures.get(partitionKey) ?? 0;
  }

  reset(partitionKey: string): void {
    this.failures.delete(partitionKey);
  }
}
