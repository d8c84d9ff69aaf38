/**
 * The ports the apply loop works through. The library imports no driver and no other feature: the app passes in
 * the oplog store, the head registry, the apply target on the head databases, the oplog applier of
 * `@tidemark/oplog-apply`, the slice payload checks of `@tidemark/slices`, and the Mongo/Kafka implementations of the
 * ports declared here (`@tidemark/head-database-mongo`, `@tidemark/bus`). `memory-*.ts` are real in-memory
 * implementations for the unit specs; `contracts.ts` holds the conformance suites of the stores.
 *
 * Common contract: "not found" is `undefined` (or empty), never an error; failures throw, and the app's classifier
 * decides whether repeating the call can succeed (`TidemarkError.retriable`, driver tables).
 */
import type { Alert, ApplyTarget, OpTime, OplogSliceMeta, Phase } from '@tidemark/domain';

/** A job whose current sync's head the loop keeps applying. */
export interface ApplyJob {
  readonly jobId: string;
  /** The job's current sync (`<jobId>-s<syncNo>`). */
  readonly syncId: string;
  readonly syncNo: number;
  /** The current sync's phase as job-state knows it: `applying-oplogs` or later. */
  readonly phase: Phase;
}

/** Which jobs have oplogs to apply. */
export interface JobPhaseReader {
  /**
   * Jobs whose current sync is in phase `applying-oplogs` or later, in a state that applies oplogs (initial-sync,
   * active) and not blocked; in no particular order.
   */
  listApplying(): Promise<ApplyJob[]>;
}

/** A lease held until `expiresAt` (the holder's clock) unless renewed. */
export interface LeaseGrant {
  readonly name: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

/**
 * Per-job exclusive leases (`apply:<jobId>`): at most one owner holds a lease at a time, judged by the owners'
 * clocks (whose skew must stay well under the TTL).
 * - `acquire` grants the lease when it is free, expired, or already held by `owner` (then it is extended);
 *   otherwise it resolves `undefined`. Idempotent for the holder.
 * - `renew` extends a lease `owner` still holds (even past its expiry, as long as nobody took it); `undefined` when
 *   another owner holds it or it is gone: the lease is lost and the work under it must stop.
 * - `release` gives it up; releasing a lease one does not hold changes nothing.
 */
export interface LeaseStore {
  acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined>;
  renew(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined>;
  release(name: string, owner: string): Promise<void>;
}

/** A standing request to fence the oplog-applier off one job's head, held by `owner` until `expiresAt`. */
export interface FenceRequest {
  readonly jobId: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

/**
 * Fence requests, at most one per job (docs/format.md, "Snapshot fence"). While a job has an unexpired request the
 * `ApplyScheduler` finishes its running turn of the job, releases the job's apply lease and does not take it again;
 * the requester then takes the apply lease itself (`ApplyFenceHolder`). The request only asks: mutual exclusion
 * comes from the lease, so a scheduler that cannot read requests keeps applying under its lease and stays safe.
 * Times are the owners' clocks, as for leases.
 * - `request` writes `owner`'s request when the job has none, an expired one, or one of `owner` (then extends it);
 *   `undefined` when another owner's unexpired request stands. Idempotent for the holder.
 * - `renew` extends `owner`'s request (also past its expiry, as long as nobody replaced it); `undefined` when it is
 *   gone or another owner's.
 * - `withdraw` deletes `owner`'s request; withdrawing one that is not `owner`'s changes nothing.
 * - `current` is the job's unexpired request, `undefined` when there is none (or it expired: its holder died).
 */
export interface FenceStore {
  request(jobId: string, owner: string, ttlMs: number): Promise<FenceRequest | undefined>;
  renew(jobId: string, owner: string, ttlMs: number): Promise<FenceRequest | undefined>;
  withdraw(jobId: string, owner: string): Promise<void>;
  current(jobId: string): Promise<FenceRequest | undefined>;
}

/** An update whose document the head lacked, for the agent to fetch from the source. */
export interface MissingDocumentRecord {
  /** Namespace on the source: where the agent fetches the document. */
  readonly sourceNs: string;
  /** Namespace in the head. */
  readonly targetNs: string;
  /** The `_id` as canonical Extended JSON (`EJSON.stringify(id, { relaxed: false })`). */
  readonly id: string;
  /** The entry whose update found no document. */
  readonly ts: OpTime;
}

/**
 * Missing documents of a sync (`missing_documents` in the meta database, `_id: { jobId, syncId, ns, id }`).
 * `record` is idempotent per (job, sync, source namespace, id): recording one again keeps one record. Listing is
 * ordered (namespaces by name, ids by their text) so that the same content always yields the same batches.
 */
export interface MissingDocumentStore {
  record(jobId: string, syncId: string, docs: readonly MissingDocumentRecord[]): Promise<void>;
  count(jobId: string, syncId: string): Promise<number>;
  /** Source namespaces with missing documents, sorted. */
  namespaces(jobId: string, syncId: string): Promise<string[]>;
  /** The ids of one namespace, sorted, streamed (never all in memory). */
  ids(jobId: string, syncId: string, ns: string): AsyncIterable<string>;
  /** Forgets the sync's records (after a resync or a terminate). */
  deleteSync(jobId: string, syncId: string): Promise<void>;
}

/**
 * `JobCommand{FETCH_MISSING_DOCUMENTS}`: `batch` is 1-based of `batches`; `batches = 0` (with `batch = 0`, no
 * namespace and no ids) says nothing is missing. The command id is derived from the sync and the batch, so a
 * repeated publication is recognised as the same command.
 */
export interface FetchMissingDocumentsCommand {
  readonly commandId: string;
  readonly jobId: string;
  readonly syncId: string;
  readonly batch: number;
  readonly batches: number;
  /** Source namespace of the ids ('' when `batches = 0`). */
  readonly ns: string;
  /** Canonical Extended JSON array of the `_id`s, at most 1000. */
  readonly ids: string;
}

/** Publishes commands on `tidemark.commands` (key: job id); resolves once Kafka acknowledged. */
export interface CommandPublisher {
  fetchMissingDocuments(command: FetchMissingDocumentsCommand): Promise<void>;
}

/** Publishes alerts on `tidemark.alerts`; resolves once Kafka acknowledged. */
export interface AlertPublisher {
  raise(alert: Alert): Promise<void>;
}

/** The target a job's head is written through (the namespaces it receives are already head namespaces). */
export type ApplyTargetFactory = (job: ApplyJob) => ApplyTarget;

/** A missing document as the applier reports it (`MissingDocument` of `@tidemark/oplog-apply`). */
export interface AppliedMissingDocument {
  readonly sourceNs: string;
  readonly targetNs: string;
  readonly id: unknown;
  readonly ts: OpTime;
}

/** The part of `OplogApplier` (`@tidemark/oplog-apply`) the loop uses. */
export interface EntryApplier {
  /** Applies one decoded entry (BSON wrapper values); throws on failure (retriable as its cause). */
  applyEntry(entry: unknown): Promise<unknown>;
  /** Drains the missing documents recorded so far. */
  takeMissingDocuments(): AppliedMissingDocument[];
  /** First entry of the oldest open transaction: a stored position must stay before it. */
  resumeFrom(): OpTime | undefined;
}

/** Builds an applier writing to `target` with the given namespace mapping (`new OplogApplier(target, options)`). */
export type EntryApplierFactory = (
  target: ApplyTarget,
  options: { readonly mapNamespace: (sourceNs: string) => string | null },
) => EntryApplier;

/**
 * The checks of a slice's payload (`decodeSlicePayload` of `@tidemark/slices` with the slice limits): size,
 * checksum, decompression, framing, count. Returns the entries as raw BSON; throws `SliceChecksumError` /
 * `SliceValidationError`, never a partial result.
 */
export type SlicePayloadDecoder = (payload: Buffer, meta: OplogSliceMeta) => Buffer[];
