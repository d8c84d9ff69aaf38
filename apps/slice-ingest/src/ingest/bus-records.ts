/**
 * The ingest step's claim check as a bus record, `SliceStored` (its alerts go out as @tidemark/bus `alertRaisedRecord`).
 * Oplog positions use the bus's two's-complement long mapping (`opTimeToAvroLong`).
 */
import { opTimeToAvroLong, SLICE_KIND_TO_AVRO, SLICE_ORIGIN_TO_AVRO, type SliceStored } from '@tidemark/bus';
import type { SliceClaimCheck } from '@tidemark/ingest';

/** The `SliceStored` record of a claim check. */
export function sliceStoredRecord(claim: SliceClaimCheck): SliceStored {
  const oplog = claim.kind === 'oplog' ? claim : undefined;
  return {
    jobId: claim.jobId,
    syncId: claim.syncId,
    sliceId: claim.sliceId,
    kind: SLICE_KIND_TO_AVRO[claim.kind],
    origin: claim.kind === 'oplog' ? null : SLICE_ORIGIN_TO_AVRO[claim.origin],
    sequence: BigInt(claim.sequence),
    namespace: claim.kind === 'initial' ? claim.namespace : null,
    prevTs: oplog === undefined ? null : opTimeToAvroLong(oplog.prevTs),
    firstTs: oplog?.firstTs === undefined ? null : opTimeToAvroLong(oplog.firstTs),
    lastTs: oplog === undefined ? null : opTimeToAvroLong(oplog.lastTs),
    docCount: BigInt(claim.docCount),
    compressedBytes: BigInt(claim.compressedBytes),
    storedAt: claim.storedAt,
  };
}
