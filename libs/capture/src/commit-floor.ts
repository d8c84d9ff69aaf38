/**
 * Which offset the command consumer may commit: the next offset after the last handled message of a partition,
 * unless a message is *held*. A held message (a FETCH_MISSING_DOCUMENTS batch whose fetch has no catalog yet) keeps
 * the partition's commit at its offset until the hold is released, so a restart redelivers it and everything
 * after it. Pure bookkeeping: the caller commits what {@link CommitFloor.handled} returns.
 */
interface PartitionState {
  /** Next offset after the newest handled message. */
  next: bigint;
  /** Offset of the first held message, per hold key. */
  readonly holds: Map<string, bigint>;
  /** Last offset returned for commit. */
  committed: bigint;
}

export interface HandledOptions {
  /** Hold this message (key e.g. `fetch:<jobId>/<syncId>`); the first offset held under a key is kept. */
  readonly hold?: string;
  /** Release a hold (its earlier messages may now be committed). */
  readonly release?: string;
}

export class CommitFloor {
  private readonly partitions = new Map<string, PartitionState>();

  /**
   * Records that the message at `offset` of `topic`/`partition` is handled. Returns the offset to commit (the next
   * to read, as kafkajs expects it) when it moved forward, else undefined.
   */
  handled(
    topic: string,
    partition: number,
    offset: string,
    options: HandledOptions = {},
  ): string | undefined {
    const key = `${topic}/${partition}`;
    const at = BigInt(offset);
    let state = this.partitions.get(key);
    if (state === undefined) {
      state = { next: at + 1n, holds: new Map(), committed: -1n };
      this.partitions.set(key, state);
    }
    if (at + 1n > state.next) state.next = at + 1n;
    if (options.release !== undefined) state.holds.delete(options.release);
    if (options.hold !== undefined && !state.holds.has(options.hold)) state.holds.set(options.hold, at);
    let floor = state.next;
    for (const held of state.holds.values()) if (held < floor) floor = held;
    if (floor <= state.committed) return undefined;
    state.committed = floor;
    return floor.toString();
  }

  /** Forgets partitions (after a rebalance the new assignment starts from the committed offsets). */
  reset(): void {
    this.partitions.clear();
  }

  /** Hold keys of a partition, for logs and specs. */
  holdsOf(topic: string, partition: number): string[] {
    return [...(this.partitions.get(`${topic}/${partition}`)?.holds.keys() ?? [])];
  }
}
