/**
 * A bounded buffer of the operations of transactions that are not committed yet (mongo-tools' `txn.Buffer`, with a
 * limit). MongoDB writes a large transaction as a chain of `applyOps` entries with `partialTxn: true`, linked by
 * `prevOpTime`, ended by an `applyOps` without it (the commit); a prepared transaction ends its chain with
 * `prepare: true` and commits later with a `commitTransaction` entry (or an `abortTransaction`). The applier keeps
 * each open transaction's operations here until its commit.
 *
 * The bound covers every open transaction together: at most `maxOps` operations and `maxBytes` bytes (BSON size of
 * the buffered operations). Exceeding it throws {@link TransactionBufferOverflowError} instead of growing: memory
 * stays bounded whatever the source does. Nothing here is durable: after a restart the buffer is empty, so a replay
 * must restart from {@link TransactionBuffer.oldestOpenTs} (the applier's `resumeFrom()`), not after it.
 */
import { calculateObjectSize } from 'bson';
import type { Timestamp } from 'bson';
import { compareOpTime } from '@tidemark/domain';
import type { OpTime } from '@tidemark/domain';
import { timestampToOpTime } from './bson-values';
import type { OplogOperation } from './entry';
import { TransactionBufferOverflowError } from './errors';

export interface TransactionBufferLimits {
  /** Most operations held across all open transactions. */
  readonly maxOps: number;
  /** Most bytes (BSON size of the operations) held across all open transactions. */
  readonly maxBytes: number;
}

/** 100 000 operations, 64 MiB. */
export const DEFAULT_TRANSACTION_BUFFER_LIMITS: TransactionBufferLimits = Object.freeze({
  maxOps: 100_000,
  maxBytes: 64 * 1024 * 1024,
});

/** One buffered operation, with where it came from (for error messages). */
export interface BufferedOperation {
  readonly operation: OplogOperation;
  /** The entry that carried it. */
  readonly entryTs: OpTime;
  /** Its position in that entry, e.g. `applyOps[2]`. */
  readonly path: string;
}

/** An open transaction, as reported by {@link TransactionBuffer.openTransactions}. */
export interface OpenTransaction {
  /** `<lsid as canonical JSON>:<txnNumber>`. */
  readonly key: string;
  /** Timestamp of its first buffered entry. */
  readonly firstTs: OpTime;
  /** Timestamp of its last buffered entry (the next entry's `prevOpTime` must name it). */
  readonly lastTs: OpTime;
  readonly ops: number;
  readonly bytes: number;
  /** True once an entry with `prepare: true` was buffered: only `commitTransaction` applies it. */
  readonly prepared: boolean;
}

interface Open {
  firstTs: OpTime;
  lastTs: OpTime;
  bytes: number;
  prepared: boolean;
  readonly ops: BufferedOperation[];
}

export class TransactionBuffer {
  private readonly limits: TransactionBufferLimits;
  private readonly open = new Map<string, Open>();
  private totalOps = 0;
  private totalBytes = 0;

  constructor(limits: Partial<TransactionBufferLimits> = {}) {
    const merged = { ...DEFAULT_TRANSACTION_BUFFER_LIMITS, ...limits };
    for (const [name, value] of Object.entries(merged)) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new RangeError(
          `transaction buffer limit ${name} must be a positive integer, got ${String(value)}`,
        );
      }
    }
    this.limits = Object.freeze(merged);
  }

  /**
   * Adds the operations of one entry of transaction `key`. Throws {@link TransactionBufferOverflowError} (and adds
   * nothing) when the buffer would exceed its bounds.
   */
  add(
    key: string,
    ts: Timestamp,
    ops: readonly { operation: OplogOperation; path: string }[],
    prepared: boolean,
  ): void {
    const entryTs = timestampToOpTime(ts);
    const bytes = ops.reduce((sum, { operation }) => sum + calculateObjectSize(operation), 0);
    if (this.totalOps + ops.length > this.limits.maxOps) {
      throw new TransactionBufferOverflowError({
        limit: 'maxOps',
        max: this.limits.maxOps,
        attempted: this.totalOps + ops.length,
        txn: key,
      });
    }
    if (this.totalBytes + bytes > this.limits.maxBytes) {
      throw new TransactionBufferOverflowError({
        limit: 'maxBytes',
        max: this.limits.maxBytes,
        attempted: this.totalBytes + bytes,
        txn: key,
      });
    }
    let txn = this.open.get(key);
    if (txn === undefined) {
      txn = { firstTs: entryTs, lastTs: entryTs, bytes: 0, prepared: false, ops: [] };
      this.open.set(key, txn);
    }
    for (const { operation, path } of ops) txn.ops.push({ operation, entryTs, path });
    txn.lastTs = entryTs;
    txn.bytes += bytes;
    txn.prepared = txn.prepared || prepared;
    this.totalOps += ops.length;
    this.totalBytes += bytes;
  }

  /** True when transaction `key` has buffered entries. */
  has(key: string): boolean {
    return this.open.has(key);
  }

  /** Timestamp of the last buffered entry of `key`, if any. */
  lastTs(key: string): OpTime | undefined {
    return this.open.get(key)?.lastTs;
  }

  /** The buffered operations of `key`, in oplog order (empty when none). The buffer keeps them until `drop`. */
  operations(key: string): readonly BufferedOperation[] {
    return this.open.get(key)?.ops ?? [];
  }

  /** Forgets transaction `key` (after its commit was applied, or on abort). */
  drop(key: string): void {
    const txn = this.open.get(key);
    if (txn === undefined) return;
    this.open.delete(key);
    this.totalOps -= txn.ops.length;
    this.totalBytes -= txn.bytes;
  }

  /** The open transactions, oldest first. */
  openTransactions(): OpenTransaction[] {
    return [...this.open.entries()]
      .map(([key, txn]) => ({
        key,
        firstTs: txn.firstTs,
        lastTs: txn.lastTs,
        ops: txn.ops.length,
        bytes: txn.bytes,
        prepared: txn.prepared,
      }))
      .sort((a, b) => compareOpTime(a.firstTs, b.firstTs));
  }

  /** The timestamp of the oldest buffered entry: a replay that must rebuild the buffer starts there. */
  oldestOpenTs(): OpTime | undefined {
    return this.openTransactions()[0]?.firstTs;
  }

  /** Operations and bytes held now. */
  usage(): { ops: number; bytes: number } {
    return { ops: this.totalOps, bytes: this.totalBytes };
  }
}
