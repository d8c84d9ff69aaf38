/**
 * The ports a snapshot is taken through: reading a job's head database, and fencing the oplog-applier off it
 * while it is read. Implemented over MongoDB in `@tidemark/head-database-mongo`; in memory for the unit specs.
 */
import type { OpTime } from '@tidemark/domain';
import type { IndexSpec } from './manifest';

/** A namespace of a job's head database, by its source name. */
export interface HeadNamespaceInfo {
  /** The source namespace `db.collection` (what a restore recreates). */
  readonly namespace: string;
  /**
   * Collection options as `listCollections` gives them, as plain JSON: BSON values other than strings, booleans,
   * doubles and 32-bit integers in canonical Extended JSON (`{"$numberLong": "5"}`), member order kept. The
   * manifest stores them as they are (`manifest-codec.ts`); a value JSON cannot hold fails the snapshot.
   */
  readonly options: Readonly<Record<string, unknown>>;
  /** Index specs as `listIndexes` gives them (including `_id_`), as plain JSON like `options`. */
  readonly indexes: readonly IndexSpec[];
}

/** The head's applied position: the last oplog entry applied to it. */
export interface AppliedPosition {
  readonly opTime: OpTime;
  readonly wallTime?: Date;
}

/** Read access to the head database of a job's sync. */
export interface HeadSource {
  /** The head's namespaces, sorted by namespace. */
  listNamespaces(jobId: string, syncId: string): Promise<HeadNamespaceInfo[]>;
  /**
   * The namespaces the head's own records name (the transfer's catalogs), answered without listing the server: a
   * hint that lets a snapshot start copying while `listNamespaces` (which may be slow: FerretDB computes every
   * database's size for `listDatabases`) is still running. It may name namespaces the head no longer has (their
   * `documents` are empty) and miss ones it gained; `listNamespaces` stays the authority on what a snapshot holds.
   * Optional: without it a snapshot lists first, then copies.
   */
  catalogNamespaces?(jobId: string, syncId: string): Promise<readonly string[]>;
  /**
   * The namespace's documents as raw BSON (one document per item, bytes as stored), in `_id` order; nothing for a
   * namespace the head does not have.
   */
  documents(jobId: string, syncId: string, namespace: string): AsyncIterable<Uint8Array>;
  /**
   * The same documents as `documents`, in the batches the server answered with (each batch non-empty or empty,
   * in order). Optional: a source that reads in batches saves a snapshot a step per document (a MongoDB cursor hands
   * over a whole answer at once); without it a snapshot reads `documents`.
   */
  documentBatches?(jobId: string, syncId: string, namespace: string): AsyncIterable<readonly Uint8Array[]>;
  /** The head's applied position; `undefined` when the head has none yet. */
  appliedPosition(jobId: string, syncId: string): Promise<AppliedPosition | undefined>;
}

/** A held apply fence: no oplog entry is applied to the job's head until it is released or expires. */
export interface ApplyFenceGrant {
  readonly jobId: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

/**
 * Fences the oplog-applier off a job's head database, so the head stays at one applied position while a snapshot
 * reads it (docs/format.md, "How a snapshot is consistent").
 * - `hold` resolves once no apply turn of the job runs and none will start until release or expiry; `undefined`
 *   when the fence could not be had within `waitMs`;
 * - `renew` extends a held fence; `undefined` when it was lost (the snapshot must then be given up);
 * - `release` lets applying resume.
 */
export interface ApplyFence {
  hold(jobId: string, owner: string, ttlMs: number, waitMs: number): Promise<ApplyFenceGrant | undefined>;
  renew(jobId: string, owner: string, ttlMs: number): Promise<ApplyFenceGrant | undefined>;
  release(jobId: string, owner: string): Promise<void>;
}
