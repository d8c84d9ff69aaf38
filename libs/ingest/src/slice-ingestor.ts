/**
 * The ingest step: a slice is checked before it is trusted, stored once, and announced by a claim check.
 *
 *   decode -> metadata -> topic -> key -> payload (-> catalog) -> oplog store put -> publish SliceStored
 *
 * Contract of {@link SliceIngestor.ingest}:
 * - `stored` / `duplicate`: the slice is durable in the oplog store and its claim check was acknowledged by
 *   Kafka. The caller may commit the message's offset. Ingesting the same message again answers `duplicate`
 *   and publishes the claim check again (its consumers are idempotent by slice id).
 * - `rejected`: the message failed a check (`stage` says which, `reason` says exactly what). Nothing was stored.
 *   The caller dead-letters it, raises an alert, and only then commits.
 * - throws: the infrastructure failed (oplog store, Kafka) or something nobody classified happened. The error's
 *   `retriable` flag (`isRetriable`) says whether redelivering the message can succeed. The caller must not
 *   commit. A thrown error never means the slice is bad.
 */
import { BSONError } from 'bson';
import {
  DEFAULT_SLICE_LIMITS,
  describeError,
  TidemarkError,
  validateSliceLimits,
  validateSliceMeta,
  type OplogStore,
  type SliceKind,
  type SliceLimits,
  type SliceMeta,
} from '@tidemark/domain';
import {
  REJECTION_STAGE_LABELS,
  type IngestOutcome,
  type RejectionStage,
  type SliceRejected,
} from './ingest-outcome';
import type {
  ClaimCheckPublisher,
  SlicePayloadChecks,
  SliceRecord,
  SliceRecordCodec,
  StoreErrorClassifier,
} from './ports';
import { claimCheckFromMeta } from '@tidemark/slices';
import { messageKeyText, messageSource, type SliceMessage } from './slice-message';
import { SliceStoreError } from './slice-store-error';

export interface SliceIngestorOptions<R extends SliceRecord> {
  /** Decodes `SliceProduced` records and maps them to the domain (the bus codec). */
  readonly codec: SliceRecordCodec<R>;
  /** Checks payloads and catalogs (`@tidemark/slices`). */
  readonly payloadChecks: SlicePayloadChecks;
  readonly oplogStore: OplogStore;
  /** Classifies errors the oplog store's driver throws (`classifyMongoError`). */
  readonly classifyStoreError: StoreErrorClassifier;
  readonly claimChecks: ClaimCheckPublisher;
  /**
   * The slice kinds each topic carries, by topic name (the concrete name, prefix included), e.g.
   * `{ 'tidemark.slices.initial': ['initial', 'catalog'], 'tidemark.slices.oplog': ['oplog'] }`.
   */
  readonly topicKinds: Readonly<Record<string, readonly SliceKind[]>>;
  /** Size bounds; default `DEFAULT_SLICE_LIMITS`. */
  readonly limits?: SliceLimits;
  /** Source of `storedAt`; default the wall clock (informational only). */
  readonly clock?: () => Date;
}

/** A message that passed every check: its metadata and the payload to store. */
export interface CheckedSlice {
  readonly kind: 'checked';
  readonly meta: SliceMeta;
  readonly payload: Buffer;
}

/** Thrown inside {@link SliceIngestor.check} to end it with a rejection; never escapes it. */
class Rejection extends Error {
  constructor(
    readonly stage: RejectionStage,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The ingest step over ports; build one per process with `new` and share it (it keeps no per-message state). */
export class SliceIngestor<R extends SliceRecord = SliceRecord> {
  private readonly limits: SliceLimits;
  private readonly clock: () => Date;

  constructor(private readonly options: SliceIngestorOptions<R>) {
    this.limits = options.limits ?? DEFAULT_SLICE_LIMITS;
    const problems = validateSliceLimits(this.limits);
    if (problems.length > 0) {
      throw new TidemarkError(`slice limits are unusable: ${problems.join('; ')}`, { retriable: false });
    }
    this.clock = options.clock ?? (() => new Date());
  }

  /** Checks, stores and announces one slice (see the module comment for the contract). */
  async ingest(message: SliceMessage): Promise<IngestOutcome> {
    const checked = this.check(message);
    if (checked.kind === 'rejected') return checked;
    const { meta, payload } = checked;
    const result = await this.store(meta, payload);
    await this.options.claimChecks.publishStored(claimCheckFromMeta(meta, this.clock()));
    return { kind: result, meta };
  }

  /**
   * Every check a slice must pass before it is trusted, in order; no I/O. Returns the rejection of the first
   * check that fails. Throws (does not reject) for a topic this ingestor was not configured for, and for errors
   * no check classified (programming errors): those are not the message's fault.
   */
  check(message: SliceMessage): CheckedSlice | SliceRejected {
    const kinds = this.kindsCarriedBy(message.topic);
    const source = messageSource(message);
    const key = messageKeyText(message);
    let jobId = key === null ? undefined : this.options.codec.jobIdOfKey(key);
    let sliceId: string | undefined;
    try {
      const value = message.value;
      if (value === null) throw new Rejection('decode', 'the message has no value (tombstone)');
      const record = this.step('decode', () => this.options.codec.decode(value, source));
      const meta = this.step('metadata', () => this.options.codec.metaOf(record));
      jobId = meta.jobId;
      sliceId = meta.sliceId;
      const problems = validateSliceMeta(meta, this.limits);
      if (problems.length > 0) throw new Rejection('metadata', problems.join('; '));
      if (!kinds.includes(meta.kind)) {
        throw new Rejection(
          'topic',
          `slice kind "${meta.kind}" does not belong on ${message.topic}, which carries ${kinds.join(' and ')} slices`,
        );
      }
      const expectedKey = this.step('key', () => this.options.codec.keyOf(meta));
      if (key !== expectedKey) {
        throw new Rejection(
          'key',
          `key ${key === null ? 'is missing' : JSON.stringify(key)}, expected ${JSON.stringify(expectedKey)}`,
        );
      }
      const docs = this.step('payload', () =>
        this.options.payloadChecks.decodePayload(record.payload, meta, this.limits),
      );
      if (meta.kind === 'catalog') {
        const catalog = this.step('catalog', () =>
          this.options.payloadChecks.decodeCatalog(docs, meta.sliceId),
        );
        if (catalog.origin !== meta.origin) {
          throw new Rejection(
            'catalog',
            `the catalog documents say origin "${catalog.origin}", the slice metadata "${meta.origin}"`,
          );
        }
      }
      return { kind: 'checked', meta, payload: record.payload };
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      return {
        kind: 'rejected',
        stage: err.stage,
        reason: `${REJECTION_STAGE_LABELS[err.stage]}: ${err.detail}`,
        ...(jobId === undefined ? {} : { jobId }),
        ...(sliceId === undefined ? {} : { sliceId }),
      };
    }
  }

  /** Runs one pure check; a failure that is the message's fault becomes a {@link Rejection} of `stage`. */
  private step<T>(stage: RejectionStage, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isMessageFault(err)) throw new Rejection(stage, describeError(err));
      throw err;
    }
  }

  private kindsCarriedBy(topic: string): readonly SliceKind[] {
    const kinds = this.options.topicKinds[topic];
    if (kinds === undefined) {
      throw new TidemarkError(`slice ingest is not configured for topic ${topic}`, { retriable: false });
    }
    return kinds;
  }

  /** `put` is idempotent by slice id: `duplicate` is success. Driver errors are classified, never rejected. */
  private async store(meta: SliceMeta, payload: Buffer): Promise<'stored' | 'duplicate'> {
    try {
      return await this.options.oplogStore.put(meta, payload);
    } catch (err) {
      if (err instanceof TidemarkError) throw err;
      const { retriable, reason } = this.options.classifyStoreError(err);
      throw new SliceStoreError({ sliceId: meta.sliceId, jobId: meta.jobId, retriable, reason, cause: err });
    }
  }
}

/**
 * True for errors that say the message is bad: a non-retriable `TidemarkError` (schema mismatch, slice validation,
 * checksum, key) or a BSON parse error. Anything else (a retriable error, a `TypeError`) is not the message's fault.
 */
function isMessageFault(err: unknown): boolean {
  return (err instanceof TidemarkError && !err.retriable) || BSONError.isBSONError(err);
}
