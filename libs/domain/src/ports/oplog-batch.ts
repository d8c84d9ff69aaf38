/** What the source's oplog tail hands the agent (implemented by `@tidemark/source`, read by `@tidemark/capture`). */
import type { OpTime } from '../op-time';

/** One selected oplog entry: its position and its exact BSON bytes. */
export interface RawOplogEntry {
  readonly ts: OpTime;
  readonly raw: Buffer;
}

/**
 * Entries with `previous lastTs < ts <= lastTs` of the job's namespaces, in oplog order. A batch may have no
 * entries and a later `lastTs` (the range advanced over other namespaces), or no entries and the same `lastTs`
 * (the source is idle: a chance to flush on time).
 */
export interface OplogBatch {
  readonly entries: readonly RawOplogEntry[];
  readonly lastTs: OpTime;
  /** Newest oplog position known on the source (for lag), at least `lastTs`. */
  readonly sourceTs: OpTime;
  /**
   * Bytes of oplog read from the source since the previous batch: every entry the tail read, of every namespace
   * and re-read ones included (the job's read limit counts them). Absent: only the entries' bytes are known.
   */
  readonly readBytes?: number;
}
