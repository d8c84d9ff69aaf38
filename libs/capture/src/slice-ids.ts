/**
 * Slice ids of the agent (docs/pipeline.md, "Identifiers"), formatted in one place:
 * - initial-sync (scan): `<syncId>:i:<ns>:<sequence>`
 * - initial-sync (missing documents): `<syncId>:i:<ns>:m<batch>.<k>`, the batch number of the
 *   FETCH_MISSING_DOCUMENTS command and the slice's position in it, so a redelivered batch produces the same ids
 *   and never collides with the scan's slices of the namespace
 * - oplog: `<syncId>:o:<prevT.prevI>:<lastT.lastI>`
 * - catalog: `<syncId>:c:<origin>`
 */
import type { OpTime, SliceOrigin } from '@tidemark/domain';

/** A position as slice ids and PhaseChanged details write it: `t.i`. */
export function formatSliceTs(ts: OpTime): string {
  return `${ts.t}.${ts.i}`;
}

export function initialSliceId(syncId: string, ns: string, sequence: number): string {
  return `${syncId}:i:${ns}:${sequence}`;
}

export function missingSliceId(syncId: string, ns: string, batch: number, k: number): string {
  return `${syncId}:i:${ns}:m${batch}.${k}`;
}

export function oplogSliceId(syncId: string, prevTs: OpTime, lastTs: OpTime): string {
  return `${syncId}:o:${formatSliceTs(prevTs)}:${formatSliceTs(lastTs)}`;
}

export function catalogSliceId(syncId: string, origin: SliceOrigin): string {
  return `${syncId}:c:${origin}`;
}

/** Most slices one missing-documents batch can produce (each holds at least one of its at most 1000 ids). */
export const MAX_SLICES_PER_MISSING_BATCH = 1000;

/**
 * The `sequence` of a missing-document slice: `(batch - 1) * 1000 + k`, unique per (sync, namespace, origin) and
 * the same when a batch is redone. Unlike scan slices, these sequences have gaps.
 */
export function missingSliceSequence(batch: number, k: number): number {
  return (batch - 1) * MAX_SLICES_PER_MISSING_BATCH + k;
}
