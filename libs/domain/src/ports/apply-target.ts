/**
 * The apply target port: where the oplog applier writes. The head database's oplog-applier and point-in-time
 * restore each provide one (`MongoApplyTarget` in `@tidemark/head-database-mongo`); `MemoryApplyTarget` (`@tidemark/oplog-apply`) is
 * the in-memory one, and `describeApplyTarget` is the conformance suite every implementation must pass.
 *
 * Contracts every implementation honours:
 * - **Namespaces** are the already-mapped target names (`db.collection`); the applier never passes `admin`,
 *   `config`, `local` or `system.*` namespaces.
 * - **Idempotence.** Every method can be called again with the same arguments after it succeeded (Kafka
 *   redelivers, processes restart) and then changes nothing and does not fail: an insert of an existing `_id`
 *   replaces the document; creating an existing collection or an identical index, dropping a missing collection,
 *   database or index, and renaming a collection that was already renamed succeed without effect.
 * - **Not found** is an answer, not an error: `update` of a missing document resolves `{ matched: false }` and
 *   writes nothing (it never upserts); `delete` of a missing document resolves `{ deleted: false }`; `findById`
 *   resolves `null`; `collMod`, `convertToCapped` and `dropIndexes` on a missing collection do nothing.
 * - **Collections** are created implicitly by `insertOrReplace` and `createIndexes`, as MongoDB does; a new
 *   collection has the `_id_` index.
 * - **Documents** are stored with `_id` first. `_id`s are equal when MongoDB's `_id` index says so (numbers compare
 *   by value across types).
 * - **Errors.** Failures a retry cannot fix (a path that cannot be created, a conflicting index, an `_id` change, a
 *   rename onto an existing collection without `dropTarget`) reject with a non-retriable `TidemarkError`; transient
 *   failures (network, primary step-down) with a retriable one. The applier wraps both with the entry's context.
 * - **Ordering.** The applier awaits each call before the next; a target need not support concurrent calls.
 *
 * The port lives in the domain because two features use it (the applier of `@tidemark/oplog-apply` writes through
 * it, the apply loop of `@tidemark/head-database` hands one to it; docs/architecture.md, "Ports and adapters");
 * `@tidemark/oplog-apply` re-exports it. The conformance suite is `libs/oplog-apply/src/apply-target.contract.ts` (specs import
 * it as `@tidemark/oplog-apply-contract`).
 */
import type { Document } from 'bson';

/** Selects one document by `_id`. */
export interface IdFilter {
  readonly _id: unknown;
}

/**
 * An update document of operators, as MongoDB's `update` takes it. The applier sends `$set` and `$unset` (dotted
 * paths, array indexes as path components, `$unset` values ignored) and, for array resizes, `$push` with
 * `{ $each: [], $slice: <n> }`. Paths in one modifier never overlap.
 */
export type ModifierSpec = Readonly<Record<string, Document>>;

/** What `update` changes in the matched document. */
export type TargetUpdate =
  /** Apply update operators to the document (server-side). */
  | { readonly kind: 'modifier'; readonly spec: ModifierSpec }
  /** Replace the whole document; `doc._id`, when present, equals the filter's `_id`. */
  | { readonly kind: 'replacement'; readonly doc: Document };

export interface UpdateResult {
  /** False when no document has the filter's `_id`; nothing was written then. */
  readonly matched: boolean;
}

export interface DeleteResult {
  /** False when no document had the filter's `_id`. */
  readonly deleted: boolean;
}

/**
 * An index as `listIndexes` shows it and as oplog entries carry it: `key` and `name` are required, every other
 * field (`unique`, `partialFilterExpression`, `expireAfterSeconds`, `collation`, `v`, ...) is an index option.
 */
export interface IndexSpec extends Document {
  readonly key: Document;
  readonly name: string;
}

/** What a target can do, as data (callers never test the target's class). */
export interface ApplyTargetCapabilities {
  /**
   * True when `findById` is implemented and reflects every write the target has acknowledged (read your writes).
   * The applier then applies `$v:2` diffs by computing the post-image; otherwise it translates them to modifiers.
   */
  readonly readYourWrites: boolean;
}

export interface ApplyTarget {
  readonly capabilities: ApplyTargetCapabilities;

  /**
   * Inserts `doc` or, when a document with its `_id` exists, replaces it (an upsert by `_id`). Applying an insert
   * twice leaves one document. Creates the collection if needed.
   */
  insertOrReplace(ns: string, doc: Document): Promise<void>;

  /** Updates the document with the filter's `_id`. A missing document is `{ matched: false }`; never upserts. */
  update(ns: string, filter: IdFilter, update: TargetUpdate): Promise<UpdateResult>;

  /** Deletes the document with the filter's `_id`; a missing one is `{ deleted: false }`. */
  delete(ns: string, filter: IdFilter): Promise<DeleteResult>;

  /** The document with the filter's `_id`, or null. Required when `capabilities.readYourWrites` is true. */
  findById?(ns: string, filter: IdFilter): Promise<Document | null>;

  /**
   * Creates a collection (or view, with `viewOn`/`pipeline`) with the options of a `create` command
   * (`capped`, `size`, `max`, `validator`, `collation`, `timeseries`, `clusteredIndex`, ...). An existing
   * collection is left as it is.
   */
  createCollection(ns: string, options: Document): Promise<void>;

  /** Drops a collection with its indexes; a missing one is not an error. */
  dropCollection(ns: string): Promise<void>;

  /**
   * Renames `from` to `to` (possibly across databases), keeping documents, indexes and options. When `from` does
   * not exist the rename counts as already done and nothing changes. When `to` exists, it is dropped first if
   * `dropTarget`, otherwise the call fails (non-retriable). Renaming a collection to itself changes nothing.
   */
  renameCollection(from: string, to: string, dropTarget: boolean): Promise<void>;

  /** Drops every collection of database `db` (not of other databases whose names start with `db`). */
  dropDatabase(db: string): Promise<void>;

  /**
   * Creates the indexes, creating the collection if needed. An index identical to an existing one (same name, key
   * and options, ignoring `v`) is skipped; a different index under an existing name, or the same key under another
   * name, fails (non-retriable).
   */
  createIndexes(ns: string, specs: readonly IndexSpec[]): Promise<void>;

  /** Drops the named indexes, or every index but `_id_` for `'*'`. Missing indexes and collections are ignored. */
  dropIndexes(ns: string, names: readonly string[] | '*'): Promise<void>;

  /**
   * Changes collection options as the `collMod` command does (`validator`, `validationLevel`, `validationAction`,
   * `expireAfterSeconds`, `changeStreamPreAndPostImages`, `viewOn`/`pipeline` of a view, and `index: { name |
   * keyPattern, hidden?, expireAfterSeconds?, unique?, prepareUnique? }` for one index). Missing collection: no-op.
   */
  collMod(ns: string, options: Document): Promise<void>;

  /** Makes a collection capped (`convertToCapped`), keeping its documents. Missing collection: no-op. */
  convertToCapped(ns: string, options: { readonly size: number; readonly max?: number }): Promise<void>;
}
