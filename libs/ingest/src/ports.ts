/**
 * The ports the ingest step works through. The library imports no Kafka or MongoDB package: the app passes in
 * the bus's Avro codec and slice mapping, the slice payload checks, the oplog store, the store's error
 * classification and a publisher of claim checks.
 */
import type { SliceLimits, SliceMeta, SliceOrigin } from '@tidemark/domain';
import type { SliceClaimCheck } from '@tidemark/slices';

/** The part of a decoded `SliceProduced` record the ingest step reads itself: the payload bytes. */
export interface SliceRecord {
  readonly payload: Buffer;
}

/**
 * Reads slice records off the wire (the bus's codec, `sliceMetaFromProduced` and key formatters). Every method is
 * pure: no I/O, the same input always gives the same answer, so a failure says something about the message and
 * the message is rejected.
 */
export interface SliceRecordCodec<R extends SliceRecord = SliceRecord> {
  /**
   * Decodes a message value: Avro single-object encoding of `SliceProduced`. Throws a non-retriable
   * `TidemarkError` (`SchemaMismatchError`) for bytes that are not such a record.
   */
  decode(value: Buffer, source: string): R;
  /**
   * The domain metadata of a record. Throws `SliceValidationError` for values the domain cannot hold (an
   * unsafe integer, an oplog slice without its range, ...).
   */
  metaOf(record: R): SliceMeta;
  /**
   * The key a slice must be sent with: `<jobId>/<namespace>` for initial-sync slices, `<jobId>` otherwise.
   * Throws a non-retriable `TidemarkError` when no key can be formed (e.g. a job id containing `/`).
   */
  keyOf(meta: SliceMeta): string;
  /** The job id a key names, or undefined when it is not a well-formed key (never throws); attributes messages that do not decode. */
  jobIdOfKey(key: string): string | undefined;
}

/** The checks of a slice's payload (`decodeSlicePayload`, `decodeCatalog` of `@tidemark/slices`). Pure. */
export interface SlicePayloadChecks {
  /**
   * Checks size, checksum, decompression, BSON framing and document count; returns the documents. Throws
   * `SliceChecksumError` or `SliceValidationError`, never returns a partial result.
   */
  decodePayload(payload: Buffer, meta: SliceMeta, limits: SliceLimits): Buffer[];
  /** Parses a catalog slice's documents; throws `SliceValidationError` (or a BSON error) when they are not one. */
  decodeCatalog(docs: Buffer[], sliceId: string): { readonly origin: SliceOrigin };
}

/** Publishes claim checks on `tidemark.slices.stored`. */
export interface ClaimCheckPublisher {
  /**
   * Resolves once Kafka acknowledged the claim check on all in-sync replicas. Throws a `TidemarkError` whose
   * `retriable` flag says whether sending again can succeed (the bus's `KafkaOperationError`). Publishing the same
   * claim check twice is harmless: its consumers are idempotent by slice id.
   */
  publishStored(claim: SliceClaimCheck): Promise<void>;
}

/** How a failure of the oplog store's driver is classified (`classifyMongoError` of `@tidemark/mongo`). */
export type StoreErrorClassifier = (err: unknown) => { readonly retriable: boolean; readonly reason: string };
