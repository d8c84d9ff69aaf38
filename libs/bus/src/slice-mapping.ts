/**
 * Slices on the bus, every mapping in one place: the domain's slice metadata (`SliceMeta`: numbers and `OpTime`s)
 * and the `SliceProduced` record (bigints and two's-complement longs), and the claim check of a stored slice
 * (`SliceClaimCheck` of @tidemark/slices) and the `SliceStored` record. Reading never trusts the record: a value the domain cannot hold (an
 * unsafe integer, an oplog slice without its range, an initial slice without namespace or origin) throws
 * `SliceValidationError`, which the consumer dead-letters. Full validation stays the domain's
 * `validateSliceMeta`.
 */
import {
  SliceValidationError,
  type OpTime,
  type SliceCodec,
  type SliceKind,
  type SliceMeta,
  type SliceOrigin,
} from '@tidemark/domain';
import type { SliceClaimCheck } from '@tidemark/slices';
import { opTimeFromAvroLong, opTimeToAvroLong } from './op-time-long';
import type { AvroSliceCodec, AvroSliceKind, AvroSliceOrigin, SliceProduced, SliceStored } from './types';

/** Slice kinds, domain -> Avro enum symbol. */
export const SLICE_KIND_TO_AVRO: Readonly<Record<SliceKind, AvroSliceKind>> = {
  initial: 'INITIAL',
  oplog: 'OPLOG',
  catalog: 'CATALOG',
};
/** Slice kinds, Avro enum symbol -> domain. */
export const SLICE_KIND_FROM_AVRO: Readonly<Record<AvroSliceKind, SliceKind>> = {
  INITIAL: 'initial',
  OPLOG: 'oplog',
  CATALOG: 'catalog',
};
const CODEC_TO_AVRO: Readonly<Record<SliceCodec, AvroSliceCodec>> = {
  none: 'NONE',
  gzip: 'GZIP',
  brotli: 'BROTLI',
};
const CODEC_FROM_AVRO: Readonly<Record<AvroSliceCodec, SliceCodec>> = {
  NONE: 'none',
  GZIP: 'gzip',
  BROTLI: 'brotli',
};
/** Slice origins, domain -> Avro enum symbol. */
export const SLICE_ORIGIN_TO_AVRO: Readonly<Record<SliceOrigin, AvroSliceOrigin>> = {
  scan: 'SCAN',
  missing: 'MISSING',
};
const ORIGIN_FROM_AVRO: Readonly<Record<AvroSliceOrigin, SliceOrigin>> = { SCAN: 'scan', MISSING: 'missing' };

const ts = (value: OpTime | undefined): bigint | null =>
  value === undefined ? null : opTimeToAvroLong(value);

/** The fields `SliceProduced` and `SliceStored` share, from slice metadata or a claim check. */
function sharedRecordFields(slice: SliceMeta | SliceClaimCheck) {
  const oplog = slice.kind === 'oplog' ? slice : undefined;
  return {
    jobId: slice.jobId,
    syncId: slice.syncId,
    sliceId: slice.sliceId,
    kind: SLICE_KIND_TO_AVRO[slice.kind],
    origin: slice.kind === 'oplog' ? null : SLICE_ORIGIN_TO_AVRO[slice.origin],
    sequence: BigInt(slice.sequence),
    namespace: slice.kind === 'initial' ? slice.namespace : null,
    prevTs: ts(oplog?.prevTs),
    firstTs: ts(oplog?.firstTs),
    lastTs: ts(oplog?.lastTs),
    docCount: BigInt(slice.docCount),
    compressedBytes: BigInt(slice.compressedBytes),
  };
}

/** The record for a slice with this metadata and payload. */
export function sliceProducedFromMeta(meta: SliceMeta, payload: Buffer, producedAt: Date): SliceProduced {
  return {
    ...sharedRecordFields(meta),
    rawBytes: BigInt(meta.rawBytes),
    codec: CODEC_TO_AVRO[meta.codec],
    checksum: meta.checksum,
    producedAt,
    payload,
  };
}

function safeNumber<R extends SliceProduced | SliceStored>(
  record: R,
  field: 'sequence' | 'docCount' | 'compressedBytes' | (R extends SliceProduced ? 'rawBytes' : never),
): number {
  const value = (record as unknown as Record<string, bigint>)[field]!;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SliceValidationError({
      sliceId: record.sliceId,
      reason: `${field} ${value} is not in 0..2^53-1`,
    });
  }
  return Number(value);
}

function origin(record: SliceProduced | SliceStored): SliceOrigin {
  if (record.origin === null) {
    throw new SliceValidationError({
      sliceId: record.sliceId,
      reason: `a ${record.kind} slice must carry its origin`,
    });
  }
  return ORIGIN_FROM_AVRO[record.origin];
}

/** What a slice record says of its kind: namespace and origin, origin, or the oplog range. Checked. */
type KindFields =
  | { kind: 'initial'; origin: SliceOrigin; namespace: string }
  | { kind: 'catalog'; origin: SliceOrigin }
  | { kind: 'oplog'; prevTs: OpTime; firstTs?: OpTime; lastTs: OpTime };

function kindFields(record: SliceProduced | SliceStored): KindFields {
  const kind = SLICE_KIND_FROM_AVRO[record.kind];
  if (kind === 'initial') {
    if (record.namespace === null) {
      throw new SliceValidationError({
        sliceId: record.sliceId,
        reason: 'an initial slice must name its namespace',
      });
    }
    return { kind, origin: origin(record), namespace: record.namespace };
  }
  if (kind === 'catalog') return { kind, origin: origin(record) };
  if (record.prevTs === null || record.lastTs === null) {
    throw new SliceValidationError({
      sliceId: record.sliceId,
      reason: 'an oplog slice must carry prevTs and lastTs',
    });
  }
  return {
    kind,
    prevTs: opTimeFromAvroLong(record.prevTs),
    ...(record.firstTs === null ? {} : { firstTs: opTimeFromAvroLong(record.firstTs) }),
    lastTs: opTimeFromAvroLong(record.lastTs),
  };
}

/** The domain metadata of a received record (the payload stays in the record). */
export function sliceMetaFromProduced(record: SliceProduced): SliceMeta {
  const base = {
    jobId: record.jobId,
    syncId: record.syncId,
    sliceId: record.sliceId,
    sequence: safeNumber(record, 'sequence'),
    docCount: safeNumber(record, 'docCount'),
    rawBytes: safeNumber(record, 'rawBytes'),
    compressedBytes: safeNumber(record, 'compressedBytes'),
    codec: CODEC_FROM_AVRO[record.codec],
    checksum: record.checksum,
  };
  return { ...base, ...kindFields(record) };
}

/** The `SliceStored` record of a claim check. */
export function sliceStoredOf(claim: SliceClaimCheck): SliceStored {
  return { ...sharedRecordFields(claim), storedAt: claim.storedAt };
}

/**
 * The claim check a received `SliceStored` record carries. Like {@link sliceMetaFromProduced} it never trusts the
 * record: a value the domain cannot hold throws `SliceValidationError`.
 */
export function claimCheckOf(record: SliceStored): SliceClaimCheck {
  const base = {
    jobId: record.jobId,
    syncId: record.syncId,
    sliceId: record.sliceId,
    sequence: safeNumber(record, 'sequence'),
    docCount: safeNumber(record, 'docCount'),
    compressedBytes: safeNumber(record, 'compressedBytes'),
    storedAt: record.storedAt,
  };
  return { ...base, ...kindFields(record) };
}
