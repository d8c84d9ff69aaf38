/**
 * How long a partition waits before a message that failed retriably is delivered again: the cap doubles per
 * consecutive failure of that partition, from `initialMs` up to `maxMs` (`backoffCapMs` of `@tidemark/util`),
 * and the wait is drawn from the upper half of the cap ("equal jitter", so replicas do not retry in step and the
 * wait never collapses to zero). A success resets the partition.
 */
import { backoffCapMs } from '@tidemark/util';

export class PartitionBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records one more failure of `partitionKey` and returns the wait before the next attempt, ms. */
  next(partitionKey: string): number {
    const attempt = (this.failures.get(partitionKey) ?? 0) + 1;
    this.failures.set(partitionKey, attempt);
    const cap = backoffCapMs(attempt, this.initialMs, 2, this.maxMs);
    return Math.round(cap / 2 + (this.random() * cap) / 2);
  }

  /** Consecutive failures of `partitionKey` so far. */
  failuresOf(partitionKey: string): number {
    return this.failures.get(partitionKey) ?? 0;
  }

  reset(partitionKey: string): void {
    this.failures.delete(partitionKey);
  }
}
