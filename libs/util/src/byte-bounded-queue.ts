/**
 * A bounded async hand-off between one side that reads (producer) and one that writes (consumer), bounded both in
 * items and in bytes, after Debezium's `ChangeEventQueue`.
 *
 * Contract:
 * - `put` waits while the queue is full: it holds `maxItems` items, or adding the item would pass `maxBytes`.
 *   An empty queue always admits one item, even one larger than `maxBytes`, so an oversized item cannot deadlock.
 *   Waiting producers are admitted in the order they called `put`.
 * - `take` / `drain` wait until there is at least one item. `drain(maxItems, maxBytes)` returns up to `maxItems`
 *   items totalling at most `maxBytes`, but always at least one item.
 * - `close()` means "no more items": consumers still receive what is queued, then `take` gives `undefined` and
 *   `drain` gives `[]`. A `put` after (or waiting at) `close()` rejects with {@link QueueClosedError}.
 * - `fail(err)` reports a producer-side error: the consumer's next `take` / `drain` (and every one after, and any
 *   already waiting) rejects with `err`, so the failure stops the consumer instead of being lost. Queued items
 *   are discarded: they were never acknowledged, so they will be read again after a restart. Only the first
 *   failure is kept.
 */
import { abortReason } from './sleep';

export interface ByteBoundedQueueOptions<T> {
  /** Most items held at once (integer >= 1). */
  maxItems: number;
  /** Most bytes held at once (> 0), except that one item is always admitted into an empty queue. */
  maxBytes: number;
  /** Size of an item in bytes (finite, >= 0), computed once per `put`. */
  sizeOf: (item: T) => number;
}

/** A `put` on a closed or failed queue. Not retriable. */
export class QueueClosedError extends Error {
  override readonly name: string = 'QueueClosedError';
  readonly retriable = false;
}

interface Entry<T> {
  item: T;
  size: number;
}

interface PendingPut<T> extends Entry<T> {
  resolve: () => void;
  reject: (err: unknown) => void;
  detach: () => void;
}

interface PendingTake<T> {
  maxItems: number;
  maxBytes: number;
  resolve: (items: T[]) => void;
  reject: (err: unknown) => void;
  detach: () => void;
}

export class ByteBoundedQueue<T> {
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (item: T) => number;
  private readonly entries: Entry<T>[] = [];
  private bytes = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private readonly putters: PendingPut<T>[] = [];
  private readonly takers: PendingTake<T>[] = [];

  constructor(options: ByteBoundedQueueOptions<T>) {
    if (!Number.isSafeInteger(options.maxItems) || options.maxItems < 1) {
      throw new RangeError(`ByteBoundedQueue: maxItems must be an integer >= 1, got ${options.maxItems}`);
    }
    if (!(options.maxBytes > 0)) {
      throw new RangeError(`ByteBoundedQueue: maxBytes must be > 0, got ${options.maxBytes}`);
    }
    this.maxItems = options.maxItems;
    this.maxBytes = options.maxBytes;
    this.sizeOf = options.sizeOf;
  }

  /** Items queued now. */
  get length(): number {
    return this.entries.length;
  }

  /** Bytes queued now. */
  get byteLength(): number {
    return this.bytes;
  }

  /** True after `close()` or `fail()`. */
  get closed(): boolean {
    return this.ended;
  }

  /** Adds an item, waiting while the queue is full. Rejects with the signal's reason if aborted while waiting. */
  put(item: T, signal?: AbortSignal): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError());
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const size = this.sizeOf(item);
    if (!Number.isFinite(size) || size < 0) {
      return Promise.reject(
        new RangeError(`ByteBoundedQueue: sizeOf returned ${size}; expected a finite size >= 0`),
      );
    }
    if (this.putters.length === 0 && this.fits(size)) {
      this.enqueue({ item, size });
      this.pump();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPut<T> = { item, size, resolve, reject, detach: () => undefined };
      pending.detach = this.onAbort(signal, () => {
        remove(this.putters, pending);
        reject(abortReason(signal!));
      });
      this.putters.push(pending);
    });
  }

  /** The next item; waits for one. Resolves `undefined` once the queue is closed and empty. */
  async take(signal?: AbortSignal): Promise<T | undefined> {
    const [first] = await this.drain(1, Infinity, signal);
    return first;
  }

  /**
   * Up to `maxItems` items totalling at most `maxBytes` (but at least one item); waits until there is one.
   * Resolves `[]` once the queue is closed and empty.
   */
  drain(maxItems = Infinity, maxBytes = Infinity, signal?: AbortSignal): Promise<T[]> {
    if (!(maxItems >= 1))
      return Promise.reject(new RangeError(`drain: maxItems must be >= 1, got ${maxItems}`));
    if (this.failure) return Promise.reject(this.failure.error);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.entries.length > 0) {
      const batch = this.dequeue(maxItems, maxBytes);
      this.pump();
      return Promise.resolve(batch);
    }
    if (this.ended) return Promise.resolve([]);
    return new Promise<T[]>((resolve, reject) => {
      const pending: PendingTake<T> = { maxItems, maxBytes, resolve, reject, detach: () => undefined };
      pending.detach = this.onAbort(signal, () => {
        remove(this.takers, pending);
        reject(abortReason(signal!));
      });
      this.takers.push(pending);
    });
  }

  /** Consumes items until the queue is closed and empty; throws the failure passed to `fail()`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const batch = await this.drain(1);
      if (batch.length === 0) return;
      yield* batch;
    }
  }

  /** No more items will be put. Waiting `put`s reject; consumers drain what is queued, then see the end. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (const pending of this.putters.splice(0)) {
      pending.detach();
      pending.reject(this.closedError());
    }
    this.pump();
  }

  /**
   * The producer failed with `error`. Every `take` / `drain`, waiting or future, rejects with it; queued items are
   * dropped; waiting and future `put`s reject with {@link QueueClosedError}. A second failure is ignored (the first
   * is the one that explains the stop).
   */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.ended = true;
    this.entries.length = 0;
    this.bytes = 0;
    for (const pending of this.putters.splice(0)) {
      pending.detach();
      pending.reject(this.closedError());
    }
    for (const pending of this.takers.splice(0)) {
      pending.detach();
      pending.reject(error);
    }
  }

  private fits(size: number): boolean {
    if (this.entries.length === 0) return true;
    return this.entries.length < this.maxItems && this.bytes + size <= this.maxBytes;
  }

  private enqueue(entry: Entry<T>): void {
    this.entries.push(entry);
    this.bytes += entry.size;
  }

  private dequeue(maxItems: number, maxBytes: number): T[] {
    const batch: T[] = [];
    let batchBytes = 0;
    while (this.entries.length > 0 && batch.length < maxItems) {
      const next = this.entries[0]!;
      if (batch.length > 0 && batchBytes + next.size > maxBytes) break;
      this.entries.shift();
      this.bytes -= next.size;
      batchBytes += next.size;
      batch.push(next.item);
    }
    return batch;
  }

  /** Hands items to waiting consumers and admits waiting producers until neither can progress. */
  private pump(): void {
    for (;;) {
      let progressed = false;
      while (this.takers.length > 0 && this.entries.length > 0) {
        const taker = this.takers.shift()!;
        taker.detach();
        taker.resolve(this.dequeue(taker.maxItems, taker.maxBytes));
        progressed = true;
      }
      while (this.putters.length > 0 && this.fits(this.putters[0]!.size)) {
        const putter = this.putters.shift()!;
        putter.detach();
        this.enqueue(putter);
        putter.resolve();
        progressed = true;
      }
      if (!progressed) break;
    }
    if (this.ended && this.entries.length === 0) {
      for (const taker of this.takers.splice(0)) {
        taker.detach();
        taker.resolve([]);
      }
    }
  }

  private closedError(): QueueClosedError {
    return this.failure
      ? new QueueClosedError('queue failed; no more items are accepted', { cause: this.failure.error })
      : new QueueClosedError('queue is closed; no more items are accepted');
  }

  /** Registers `handler` on `signal`'s abort; returns the function that unregisters it. */
  private onAbort(signal: AbortSignal | undefined, handler: () => void): () => void {
    if (signal === undefined) return () => undefined;
    signal.addEventListener('abort', handler, { once: true });
    return () => signal.removeEventListener('abort', handler);
  }
}

function remove<E>(list: E[], entry: E): void {
  const index = list.indexOf(entry);
  if (index >= 0) list.splice(index, 1);
}
