/** Slice metadata of the agent's slices, from an encoded payload (`@tidemark/slices`). */
import type {
  CatalogSliceMeta,
  InitialSliceMeta,
  OplogSliceMeta,
  OpTime,
  SliceOrigin,
} from '@tidemark/domain';
import type { EncodedPayload } from '@tidemark/slices';
import type { SyncJob } from './sync-job';

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
  job: Pick<SyncJob, 'jobId' | 'syncId'>,
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
  job: Pick<SyncJob, 'jobId' | 'syncId'>,
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
  job: Pick<SyncJob, 'jobId' | 'syncId'>,
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
