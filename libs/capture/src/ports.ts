/**
 * The agent's ports: what the sync logic needs from the source deployment, from Kafka and from job-state. Their
 * adapters import these types and implement them (`MongoSource` of `@tidemark/source`, `KafkaSlicePublisher` of
 * `@tidemark/bus`, `HttpJobStateClient` of `@tidemark/job-state-client`); the agent app wires them in. The unit
 * specs use the in-memory implementations in `testing/`.
 */
import type { Document } from 'bson';
import type {
  Alert,
  NamespaceFilters,
  OplogBatch,
  OpTime,
  Phase,
  PhaseReport,
  ReadLimit,
  SliceMeta,
} from '@tidemark/domain';

/** Facts about the source recorded with each sync. */
export interface SourceFacts {
  readonly serverVersion: string;
  /** `unknown` when the server does not report it. */
  readonly featureCompatibilityVersion: string;
}

/** One selected collection of the source. */
export interface SourceNamespaceInfo {
  /** `db.collection`. */
  readonly ns: string;
  /** Collection options as `listCollections` reports them. */
  readonly options: Document;
  /** Index specifications as `listIndexes` reports them, `_id_` included. */
  readonly indexes: Document[];
  /** Estimates for progress reporting; undefined when unknown. */
  readonly estimatedDocs: number | undefined;
  readonly estimatedBytes: number | undefined;
}

export type { OplogBatch, RawOplogEntry } from '@tidemark/domain';

/**
 * The source deployment of one job. Contract of each method:
 * - `latestOplogTs`: the newest oplog entry's `ts`; undefined for an empty oplog.
 * - `listNamespaces`: every collection the filters select, sorted by namespace; throws `UnsupportedNamespaceError`
 *   when they select a view or a time-series collection (Tidemark backs up neither).
 * - `scan`: every document of `ns` as raw BSON, streamed; aborting the signal ends it with the signal's reason;
 *   `batchSize` (documents per server batch) is a hint, the source's default when absent.
 * - `tail`: the oplog after `prevTs` (exclusive), gap-checked: throws `OplogGapError` when the source no longer
 *   holds `prevTs`; resumes by itself after transient failures; never ends unless aborted or failed.
 * - `fetchByIds`: the documents of `ns` with these `_id`s as raw BSON (absent ids give nothing), at most 1000 ids.
 * Failures are `TidemarkError`s whose `retriable` flag says whether trying again later can succeed.
 */
export interface SourceReader {
  info(): Promise<SourceFacts>;
  latestOplogTs(): Promise<OpTime | undefined>;
  listNamespaces(filters: NamespaceFilters): Promise<SourceNamespaceInfo[]>;
  scan(ns: string, options: { signal?: AbortSignal; batchSize?: number }): AsyncIterable<Buffer>;
  tail(
    jobId: string,
    prevTs: OpTime,
    filters: NamespaceFilters,
    signal?: AbortSignal,
  ): AsyncIterable<OplogBatch>;
  fetchByIds(ns: string, ids: readonly unknown[]): AsyncIterable<Buffer>;
}

/**
 * Kafka, as the agent sees it. Every method resolves only once the broker acknowledged the record on all in-sync
 * replicas, and rejects with a `retriable` error when it did not.
 * - `publishSlice`: initial-sync and catalog slices to `tidemark.slices.initial`, oplog slices to
 *   `tidemark.slices.oplog` (the catalog slice is a slice of kind `catalog`).
 */
export interface SlicePublisher {
  publishSlice(meta: SliceMeta, payload: Buffer): Promise<void>;
  publishPhase(report: PhaseReport): Promise<void>;
  publishAlert(alert: Alert): Promise<void>;
}

/** A job the agent serves (job-state `GET /api/v1/agent/jobs`). */
export interface AgentJob {
  readonly id: string;
  readonly state: string;
  readonly phase: Phase | undefined;
  readonly syncId: string;
  readonly syncNo: number;
  readonly sourceUri: string;
  readonly filters: NamespaceFilters;
  /** MB/s the agent may read from the job's source; undefined: uncapped. */
  readonly readLimit: ReadLimit | undefined;
}

/** Where a job's tail resumes (job-state `GET /api/v1/jobs/:id/resume`). */
export interface ResumeInfo {
  readonly syncId: string;
  readonly syncNo: number;
  /** The sync's start position, when its transfer began. */
  readonly startTs: OpTime | undefined;
  /** Newest stored oplog slice `lastTs` of the sync, when any. */
  readonly resumeTs: OpTime | undefined;
}

/** job-state's REST API, as the agent uses it. Failures are `TidemarkError`s with the `retriable` flag. */
export interface JobStateClient {
  listAgentJobs(): Promise<AgentJob[]>;
  resumeInfo(jobId: string): Promise<ResumeInfo>;
  requestResync(jobId: string, reason: string): Promise<void>;
  /** Where each running job's capture is (job-state keeps the newest source position: lag, "oplog is behind"). */
  reportCapture(positions: readonly CapturePosition[]): Promise<void>;
}

/** One running job's capture: the newest source position its tail has seen, and the newest shipped slice end. */
export interface CapturePosition {
  readonly jobId: string;
  readonly syncId: string;
  readonly sourceTs: OpTime;
  readonly shippedTs: OpTime;
}

/** Structured log events (`JsonLogger.event` shape). */
export interface AgentLogger {
  event(fields: Record<string, unknown>): void;
}

/** Milliseconds since the epoch; injectable for specs. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
export const silentLogger: AgentLogger = { event: () => undefined };
