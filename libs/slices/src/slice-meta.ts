/** Slice metadata of the agent's slices, from an encoded payload (`@tidemark/slices`). */
import type {
  CatalogSliceMeta,
  InitialSliceMeta,
  OplogSliceMeta,
  OpTime,
  SliceOrigin,
} from '@tidemark/domain';
import type { EncodedPayload } from './payload';

/** The job and sync a slice belongs to. */
export interface SliceOwner {
  readonly jobId: string;
  readonly syncId: string;
}

function sizes(p: EncodedPayload) {
  return {
    docCount: p.docCount,
    rawBytes: p.rawBytes,
    compressedBytes: p.compressedBytes,
    codec: p.codec,
    checksum: p.checksum,
  };
}

export function initialSliceMeta(
  job: SliceOwner,
  ids: { sliceId: string; sequence: number; ns: string; origin: SliceOrigin },
  payload: EncodedPayload,
): InitialSliceMeta {
  return {
    kind: 'initial',
    jobId: job.jobId,
    syncId: job.syncId,
    sliceId: ids.sliceId,
    sequence: ids.sequence,
    origin: ids.origin,
    namespace: ids.ns,
    ...sizes(payload),
  };
}

export function oplogSliceMeta(
  job: SliceOwner,
  ids: { sliceId: string; sequence: number; prevTs: OpTime; firstTs: OpTime | undefined; lastTs: OpTime },
  payload: EncodedPayload,
): OplogSliceMeta {
  return {
    kind: 'oplog',
    jobId: job.jobId,
    syncId: job.syncId,
    sliceId: ids.sliceId,
    sequence: ids.sequence,
    prevTs: ids.prevTs,
    ...(ids.firstTs === undefined ? {} : { firstTs: ids.firstTs }),
    lastTs: ids.lastTs,
    ...sizes(payload),
  };
}

export function catalogSliceMeta(
  job: SliceOwner,
  ids: { sliceId: string; origin: SliceOrigin },
  payload: EncodedPayload,
): CatalogSliceMeta {
  return {
    kind: 'catalog',
    jobId: job.jobId,
    syncId: job.syncId,
    sliceId: ids.sliceId,
    sequence: 0,
    origin: ids.origin,
    ...sizes(payload),
  };
}
