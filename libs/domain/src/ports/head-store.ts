/**
 * Ports of the head database (docs/pipeline.md). `HeadRegistry` keeps, per (job, sync), what the head-builder and
 * the oplog-applier know about a head: the transfer's catalog, which slices are built, the applied position and the
 * completion marks. `HeadWriter` writes documents, collections and indexes into the head namespaces.
 *
 * Contracts (held by the conformance suite in @tidemark/head-database-mongo):
 * - every method is idempotent: repeating a call with the same arguments changes nothing more;
 * - "not found" is `undefined`, never an error;
 * - `setAppliedTs` only moves the position forward (a stale writer cannot move it back);
 * - `insertScanned` ignores documents whose `_id` is already present (a redelivered slice), `upsertFetched`
 *   replaces them (a fetched document is newer than anything the scan read).
 */
import type { OpTime } from '../op-time';
import type { SliceOrigin } from '../slice';

export interface HeadNamespace {
  /** Source namespace `db.coll`. */
  ns: string;
  /** Where it lives in the head. */
  headNs: string;
  sliceCount: number;
  docCount: number;
  /** Collection options and index specs as Extended JSON (canonical) text, exactly as the source reported them. */
  optionsEjson?: string;
  indexesEjson?: string;
}

export interface HeadCatalog {
  startTs: OpTime;
  endTs: OpTime;
  namespaces: HeadNamespace[];
  serverVersion?: string;
  featureCompatibilityVersion?: string;
}

export interface HeadRecord {
  jobId: string;
  syncId: string;
  syncNo: number;
  scan?: HeadCatalog;
  missing?: { namespaces: Array<{ ns: string; sliceCount: number; docCount: number }> };
  /** Last applied oplog position; starts at the transfer's startTs. */
  appliedTs?: OpTime;
  appliedAt?: Date;
  buildCompleteAt?: Date;
  missingRequestedAt?: Date;
  completeAt?: Date;
  /**
   * True when the head's databases are recorded (`recordDatabase`) before anything is written to them: set when the
   * record is created, so it is absent only on records from before the recording existed.
   */
  recordsDatabases?: boolean;
}

export type HeadMark = 'buildCompleteAt' | 'missingRequestedAt' | 'completeAt';

export interface HeadRegistry {
  get(jobId: string, syncId: string): Promise<HeadRecord | undefined>;
  /** Records the scan catalog and, if no position is stored yet, sets `appliedTs = startTs`. */
  recordScanCatalog(jobId: string, syncId: string, syncNo: number, catalog: HeadCatalog): Promise<void>;
  recordMissingCatalog(
    jobId: string,
    syncId: string,
    namespaces: NonNullable<HeadRecord['missing']>['namespaces'],
  ): Promise<void>;
  markBuilt(
    sliceId: string,
    info: { jobId: string; syncId: string; origin: SliceOrigin; ns: string },
  ): Promise<void>;
  isBuilt(sliceId: string): Promise<boolean>;
  countBuilt(jobId: string, syncId: string, origin: SliceOrigin): Promise<number>;
  /** Sets a completion mark if unset; resolves true when this call set it. */
  mark(jobId: string, syncId: string, mark: HeadMark): Promise<boolean>;
  /** Moves the applied position forward to `ts` (never back); resolves the position now stored. */
  setAppliedTs(jobId: string, syncId: string, ts: OpTime): Promise<OpTime>;
  /**
   * Records that head database `headDb` of the sync may hold collections. Whoever writes into a head database that
   * its catalogs do not name (the oplog-applier) calls this first, so a snapshot names the head's databases without
   * listing every database of the server. Idempotent; a database recorded and never created lists as empty.
   */
  recordDatabase(jobId: string, syncId: string, headDb: string): Promise<void>;
  /**
   * The head databases recorded for the sync, sorted; `undefined` when its record does not record them
   * (`recordsDatabases` unset, or no record): then only a listing of the server names them all.
   */
  recordedDatabases(jobId: string, syncId: string): Promise<string[] | undefined>;
  /** Every head record of a job (all syncs), for clean-up after a resync or a terminate. */
  listForJob(jobId: string): Promise<HeadRecord[]>;
  remove(jobId: string, syncId: string): Promise<void>;
}

export interface HeadWriter {
  createCollection(headNs: string, optionsEjson?: string): Promise<void>;
  insertScanned(headNs: string, docs: Buffer[]): Promise<void>;
  upsertFetched(headNs: string, docs: Buffer[]): Promise<void>;
  createIndexes(headNs: string, indexesEjson?: string): Promise<void>;
  /** Drops every head database of the given sync (idempotent). */
  dropHead(jobId: string, syncNo: number): Promise<void>;
}
