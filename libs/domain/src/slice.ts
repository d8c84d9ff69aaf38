/**
 * Slice metadata and the rules a slice must pass before it is trusted (invariant 3). No I/O here: the payload's
 * checksum is computed by the caller and compared with {@link SliceMeta.checksum}.
 *
 * A slice is a bundle of documents: an *initial-sync slice* holds documents of one namespace as of the sync's
 * start (or documents fetched because an update found them missing); an *oplog slice* holds EVERY selected oplog
 * entry of one job with `prevTs < ts <= lastTs` (a complete range, see docs/pipeline.md); a *catalog slice* closes a
 * transfer: one document per namespace with its options, indexes and slice count.
 */
import { SliceValidationError } from './errors';
import { compareOpTime, formatOpTime, isOpTime, type OpTime } from './op-time';

export const SLICE_KINDS = ['initial', 'oplog', 'catalog'] as const;
export type SliceKind = (typeof SLICE_KINDS)[number];

/** Compression of a slice's payload. */
export const SLICE_CODECS = ['none', 'gzip', 'brotli'] as const;
export type SliceCodec = (typeof SLICE_CODECS)[number];

/** Fields every slice has. */
export interface SliceMetaBase {
  readonly kind: SliceKind;
  readonly jobId: string;
  /** The sync attempt that produced the slice (initial-sync slices) or was current when it was read (oplog). */
  readonly syncId: string;
  /** Unique id of the slice (the claim check on `tidemark.slices.stored`). */
  readonly sliceId: string;
  /**
   * Position of the slice in its stream, from 0, without gaps: per `(jobId, syncId)` for oplog slices, per
   * `(jobId, syncId, namespace)` for initial-sync slices. A JS `number` that must be a safe integer
   * (`Number.isSafeInteger`): at 10 MiB per slice, 2^53 slices is far beyond any deployment, and Avro `long` maps
   * to a number without loss in that range.
   */
  readonly sequence: number;
  /** Documents (initial) or oplog entries (oplog) in the slice. */
  readonly docCount: number;
  /** Payload size before compression, bytes. */
  readonly rawBytes: number;
  /** Payload size as stored and sent, bytes (equal to `rawBytes` for codec `none`). */
  readonly compressedBytes: number;
  readonly codec: SliceCodec;
  /** SHA-256 of the compressed payload, 64 lowercase hex digits. */
  readonly checksum: string;
}

/** Why documents were read: the initial scan, or the *fetching missing documents* phase. */
export const SLICE_ORIGINS = ['scan', 'missing'] as const;
export type SliceOrigin = (typeof SLICE_ORIGINS)[number];

/** An initial-sync slice: documents of one namespace. May hold no documents (an empty collection still exists). */
export interface InitialSliceMeta extends SliceMetaBase {
  readonly kind: 'initial';
  readonly origin: SliceOrigin;
  /** `db.collection` the documents belong to. */
  readonly namespace: string;
}

/**
 * An oplog slice: every selected oplog entry of one job with `prevTs < ts <= lastTs`. It may hold no entries (the
 * range advanced over entries of other namespaces); then `firstTs` is absent.
 */
export interface OplogSliceMeta extends SliceMetaBase {
  readonly kind: 'oplog';
  /** Exclusive lower bound of the range: the position the tail resumed from. */
  readonly prevTs: OpTime;
  /** Timestamp of the first entry in the slice, when it holds any. */
  readonly firstTs?: OpTime;
  /** Inclusive upper bound of the range. */
  readonly lastTs: OpTime;
}

/** A catalog slice: one BSON document per namespace of a transfer (origin `scan`) or of a missing-document fetch. */
export interface CatalogSliceMeta extends SliceMetaBase {
  readonly kind: 'catalog';
  readonly origin: SliceOrigin;
}

export type SliceMeta = InitialSliceMeta | OplogSliceMeta | CatalogSliceMeta;

/** Size bounds of slices. */
export interface SliceLimits {
  /** Producers close a slice once its compressed size reaches this. */
  readonly targetSliceBytes: number;
  /** A slice whose compressed payload is larger is rejected. Must be >= `targetSliceBytes`. */
  readonly maxSliceBytes: number;
  /** A slice whose payload is larger before compression is rejected (bounds memory when decompressing). */
  readonly maxRawBytes: number;
}

const MiB = 1024 * 1024;

/**
 * Target 10 MiB compressed; hard maximum 17 MiB compressed, so that one incompressible document of MongoDB's
 * maximum size (16 MiB) always fits in a slice of its own; at most 256 MiB uncompressed.
 */
export const DEFAULT_SLICE_LIMITS: SliceLimits = Object.freeze({
  targetSliceBytes: 10 * MiB,
  maxSliceBytes: 17 * MiB,
  maxRawBytes: 256 * MiB,
});

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSliceKind(value: unknown): value is SliceKind {
  return typeof value === 'string' && (SLICE_KINDS as readonly string[]).includes(value);
}

export function isSliceCodec(value: unknown): value is SliceCodec {
  return typeof value === 'string' && (SLICE_CODECS as readonly string[]).includes(value);
}

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Problems with the limits themselves; empty when they are usable. */
export function validateSliceLimits(limits: SliceLimits): string[] {
  const problems: string[] = [];
  if (!isSize(limits.targetSliceBytes) || limits.targetSliceBytes === 0) {
    problems.push('targetSliceBytes must be a positive integer');
  }
  if (!isSize(limits.maxSliceBytes) || limits.maxSliceBytes < limits.targetSliceBytes) {
    problems.push('maxSliceBytes must be an integer >= targetSliceBytes');
  }
  if (!isSize(limits.maxRawBytes) || limits.maxRawBytes === 0)
    problems.push('maxRawBytes must be a positive integer');
  return problems;
}

function commonProblems(meta: SliceMetaBase, limits: SliceLimits): string[] {
  const problems: string[] = [];
  for (const key of ['jobId', 'syncId', 'sliceId'] as const) {
    if (!isNonEmptyString(meta[key])) problems.push(`${key} must be a non-empty string`);
  }
  if (!isSize(meta.sequence)) problems.push('sequence must be a safe integer >= 0');
  for (const key of ['docCount', 'rawBytes', 'compressedBytes'] as const) {
    if (!isSize(meta[key])) problems.push(`${key} must be a safe integer >= 0`);
  }
  if (isSize(meta.compressedBytes) && meta.compressedBytes > limits.maxSliceBytes) {
    problems.push(
      `compressedBytes ${meta.compressedBytes} exceeds the maximum slice size ${limits.maxSliceBytes}`,
    );
  }
  if (isSize(meta.rawBytes) && meta.rawBytes > limits.maxRawBytes) {
    problems.push(`rawBytes ${meta.rawBytes} exceeds the maximum uncompressed size ${limits.maxRawBytes}`);
  }
  if (!isSliceCodec(meta.codec)) {
    problems.push(`codec "${String(meta.codec)}" is not one of ${SLICE_CODECS.join(', ')}`);
  } else if (meta.codec === 'none' && meta.rawBytes !== meta.compressedBytes) {
    problems.push('codec "none" requires compressedBytes to equal rawBytes');
  }
  if (isSize(meta.docCount) && meta.docCount > 0 && meta.rawBytes === 0) {
    problems.push('a slice with documents cannot have rawBytes 0');
  }
  if (typeof meta.checksum !== 'string' || !SHA256_HEX.test(meta.checksum)) {
    problems.push('checksum must be a SHA-256 digest as 64 lowercase hex digits');
  }
  return problems;
}

function oplogProblems(meta: OplogSliceMeta): string[] {
  const problems: string[] = [];
  if (!isOpTime(meta.prevTs)) problems.push('prevTs must be an oplog timestamp { t, i } of uint32 values');
  if (!isOpTime(meta.lastTs)) problems.push('lastTs must be an oplog timestamp { t, i } of uint32 values');
  if (isOpTime(meta.prevTs) && isOpTime(meta.lastTs) && compareOpTime(meta.prevTs, meta.lastTs) >= 0) {
    problems.push(`prevTs ${formatOpTime(meta.prevTs)} must be before lastTs ${formatOpTime(meta.lastTs)}`);
  }
  if (meta.docCount === 0) {
    if (meta.firstTs !== undefined) problems.push('an oplog slice without entries has no firstTs');
    return problems;
  }
  if (!isOpTime(meta.firstTs)) {
    problems.push('firstTs must be an oplog timestamp { t, i } of uint32 values');
    return problems;
  }
  if (isOpTime(meta.prevTs) && compareOpTime(meta.firstTs, meta.prevTs) <= 0) {
    problems.push(`firstTs ${formatOpTime(meta.firstTs)} must be after prevTs ${formatOpTime(meta.prevTs)}`);
  }
  if (isOpTime(meta.lastTs)) {
    // lastTs ends the slice's range, not its last entry: entries of namespaces the job leaves out may follow the
    // last selected one (one entry at firstTs, lastTs later, is a complete range).
    if (compareOpTime(meta.firstTs, meta.lastTs) > 0) {
      problems.push(`firstTs ${formatOpTime(meta.firstTs)} is after lastTs ${formatOpTime(meta.lastTs)}`);
    }
  }
  return problems;
}

function originProblems(origin: unknown): string[] {
  return typeof origin === 'string' && (SLICE_ORIGINS as readonly string[]).includes(origin)
    ? []
    : [`origin "${String(origin)}" is not one of ${SLICE_ORIGINS.join(', ')}`];
}

function initialProblems(meta: InitialSliceMeta): string[] {
  const origin = originProblems(meta.origin);
  const ns = meta.namespace;
  if (typeof ns !== 'string') return [...origin, 'namespace must be "db.collection"'];
  const dot = ns.indexOf('.');
  if (dot <= 0 || dot === ns.length - 1) return [...origin, `namespace "${ns}" must be "db.collection"`];
  return origin;
}

/**
 * Problems with a slice's metadata, as sentences (for the dead-letter reason); an empty list means the metadata is
 * valid. Checks: ids present; sequence and sizes are safe non-negative integers; compressed size within
 * `limits.maxSliceBytes` and raw size within `limits.maxRawBytes`; known kind and codec; checksum shaped as
 * SHA-256 hex; initial slices name a `db.collection`; oplog slices hold at least one entry and
 * `firstTs <= lastTs`. Does not read the payload.
 */
export function validateSliceMeta(meta: SliceMeta, limits: SliceLimits = DEFAULT_SLICE_LIMITS): string[] {
  const kind: unknown = meta.kind;
  if (!isSliceKind(kind)) {
    return [
      `kind "${String(kind)}" is not one of ${SLICE_KINDS.join(', ')}`,
      ...commonProblems(meta, limits),
    ];
  }
  const specific =
    meta.kind === 'oplog'
      ? oplogProblems(meta)
      : meta.kind === 'initial'
        ? initialProblems(meta)
        : originProblems(meta.origin);
  return [...commonProblems(meta, limits), ...specific];
}

/** Throws {@link SliceValidationError} (not retriable) listing every problem {@link validateSliceMeta} finds. */
export function assertValidSliceMeta(meta: SliceMeta, limits: SliceLimits = DEFAULT_SLICE_LIMITS): void {
  const problems = validateSliceMeta(meta, limits);
  if (problems.length > 0) {
    const sliceId = typeof meta.sliceId === 'string' && meta.sliceId !== '' ? meta.sliceId : undefined;
    throw new SliceValidationError({ sliceId, reason: problems.join('; ') });
  }
}
