/**
 * The ports a restore works through. The library imports no driver and no other feature: the caller passes the
 * snapshot (its manifest's namespaces and a reader of their documents, from `@tidemark/snapshots`), the target
 * (a MongoDB deployment, or a dump directory or archive), and for a point-in-time restore the stored oplog entries
 * and the oplog applier of `@tidemark/oplog-apply`.
 */
import type { OpTime } from '@tidemark/domain';

/** An index as `listIndexes` returns it: key, name and options. */
export type RestoreIndexSpec = Readonly<Record<string, unknown>>;

/** One namespace of the snapshot, as the restore writes it. */
export interface RestoreNamespace {
  /** The namespace in the snapshot (`db.coll` on the source). */
  readonly sourceNs: string;
  /** Where it is written (after `--rename`). */
  readonly targetNs: string;
  /** Collection options as `listCollections` gave them (capped, validator, collation, ...), without `uuid`. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly indexes: readonly RestoreIndexSpec[];
  /** The snapshot's counts for this namespace (progress and the final check). */
  readonly documentCount: number;
  readonly logicalBytes: number;
}

/** The part of a snapshot's manifest a restore reads (structurally a `SnapshotManifest` of `@tidemark/snapshots`). */
export interface RestoreSnapshot {
  readonly snapshotId: string;
  readonly jobId: string;
  readonly syncId: string;
  /** The applied oplog position the snapshot is exactly. */
  readonly opTime: OpTime;
  readonly opWallTime?: Date;
  readonly namespaces: readonly {
    readonly namespace: string;
    readonly documentCount: number;
    readonly logicalBytes: number;
    readonly options: Readonly<Record<string, unknown>>;
    readonly indexes: readonly RestoreIndexSpec[];
  }[];
}

/** A namespace's documents as raw BSON, in the snapshot's order, checked as they are read (`readNamespace`). */
export type SnapshotDocuments = (sourceNs: string) => AsyncIterable<Uint8Array>;

/**
 * Where a restore writes. Call order, per restore: `begin` once with every namespace that will be written; then per
 * namespace `prepare`, any number of `insert`s (possibly several at once for one namespace, in any order), and
 * `finish` after the namespace's last insert resolved; `end` once after every namespace finished. A failed call
 * rejects; the restore stops and reports what was written.
 */
export interface RestoreTarget {
  /** Documents already in `ns` on the target: 0 when the namespace is absent or empty. */
  existingDocuments(ns: string): Promise<number>;
  /** Called once before anything is written, with every namespace that will be (targets that need a prelude). */
  begin(namespaces: readonly RestoreNamespace[]): Promise<void>;
  /** Drops `ns` first when `drop`, then creates it with its options. */
  prepare(ns: RestoreNamespace, options: { readonly drop: boolean }): Promise<void>;
  /** Writes documents (raw BSON) into `ns`. */
  insert(ns: RestoreNamespace, docs: readonly Uint8Array[]): Promise<void>;
  /** The namespace's documents are all written: build its indexes (or write its metadata). */
  finish(ns: RestoreNamespace): Promise<void>;
  /** Every namespace is finished (a dump writes its end; a deployment does nothing). */
  end(): Promise<void>;
}

/** Progress of a restore, reported as it runs (throttled) and once at the end. */
export interface RestoreProgress {
  readonly namespaces: Readonly<
    Record<string, { readonly documents: number; readonly bytes: number; readonly done: boolean }>
  >;
  readonly documents: number;
  readonly bytes: number;
  /** Oplog entries replayed (point-in-time restores). */
  readonly entries: number;
}
