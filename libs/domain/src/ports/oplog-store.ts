/**
 * The oplog store port: the durable store of slices (initial-sync, oplog and catalog slices) on the backup side.
 *
 * Contracts every implementation honours (checked by `describeOplogStore` in @tidemark/oplog-store):
 * - `put` is idempotent by `sliceId`: storing a slice id that is already stored changes nothing and answers
 *   `duplicate`, whatever the payload. A slice is visible to readers only once it is stored whole (payload first,
 *   metadata last), so a crash mid-`put` leaves nothing a reader can see; retrying the `put` completes it.
 * - `get` of an unknown id resolves `undefined` (never throws for "not found").
 * - Oplog slices cover complete ranges `(prevTs, lastTs]` (docs/pipeline.md); `findCovering(p)` returns the stored
 *   oplog slice with `prevTs <= p < lastTs` and the greatest `lastTs`, or `undefined`.
 * - Deletions are idempotent.
 */
import type { OpTime } from '../op-time';
import type { SliceMeta, OplogSliceMeta } from '../slice';

export interface StoredSlice {
  meta: SliceMeta;
  payload: Buffer;
}

/** What a sync holds in the oplog store (`OplogStore.storedTotals`). */
export interface StoredSliceTotals {
  readonly slices: number;
  /** Sum of the slices' `compressedBytes`: what they take in the store. */
  readonly bytes: number;
}

export interface OplogStore {
  put(meta: SliceMeta, payload: Buffer): Promise<'stored' | 'duplicate'>;
  get(sliceId: string): Promise<StoredSlice | undefined>;
  getMeta(sliceId: string): Promise<SliceMeta | undefined>;
  /** The stored oplog slice that continues the chain at position `p`, preferring the longest. */
  findCovering(jobId: string, syncId: string, p: OpTime): Promise<OplogSliceMeta | undefined>;
  /** The greatest `lastTs` of the sync's stored oplog slices; `undefined` when none is stored. */
  latestOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined>;
  /** The smallest `prevTs` of the sync's stored oplog slices: where its stored oplog starts (undefined: none). */
  oldestOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined>;
  /**
   * Deletes the sync's oplog slices that end at or before `ts` (`lastTs <= ts`), metadata before payload; the slice
   * covering `ts` and every later one stay. Returns how many slices went. Idempotent.
   */
  deleteOplogThrough(jobId: string, syncId: string, ts: OpTime): Promise<number>;
  /** Entries stored in oplog slices whose first entry is after `p` (an estimate of the apply backlog). */
  countEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number>;
  /** Metadata of the sync's slices of one kind, in no particular order. */
  list(jobId: string, syncId: string, kind: SliceMeta['kind']): Promise<SliceMeta[]>;
  /** How many slices of the sync are stored, of every kind, and their stored (compressed) bytes. */
  storedTotals(jobId: string, syncId: string): Promise<StoredSliceTotals>;
  /** Removes every slice of the sync (after a resync completes, or when a job is terminated). */
  deleteSync(jobId: string, syncId: string): Promise<void>;
}
