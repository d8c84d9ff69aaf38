/**
 * `MongoApplyTarget`: the {@link ApplyTarget} port on a MongoDB-wire server (the backup side's head databases).
 *
 * Documents arrive as the oplog entries carry them, decoded with BSON wrapper values (`promoteValues: false`:
 * Int32, Long, Double, Decimal128, ... survive as their own types) and are written back as such; reads
 * (`findById`) decode the same way, so a `$v:2` post-image keeps every type.
 *
 * Idempotence, as the port requires: an insert is an insert, or a `replaceOne` upsert by `_id` when the document
 * is already there (duplicate key); an update never upserts and a missing document is `{ matched: false }`; a
 * delete of a missing document is `{ deleted: false }`. Commands
 * answer "already done" instead of failing: creating an existing collection (NamespaceExists), dropping a missing
 * collection, database or index (NamespaceNotFound, IndexNotFound), renaming a source that is gone, creating an
 * index that exists identically (the server's own no-op), `collMod`/`convertToCapped` on a missing collection.
 *
 * Every other driver failure leaves as {@link MongoApplyTargetError}: retriable as the injected classifier says
 * (the app passes the workspace's table), so a conflicting index, an `_id` change or a path through a scalar is
 * fatal and a network error or a primary step-down is retried.
 */
import type { Document } from 'bson';
import type { Collection, Filter, MongoClient } from 'mongodb';
import {
  splitNamespace,
  type ApplyTarget,
  type ApplyTargetCapabilities,
  type DeleteResult,
  type IdFilter,
  type IndexSpec,
  type TargetUpdate,
  type UpdateResult,
} from '@tidemark/domain';
import { inSourceOrder, WRAPPED_VALUES } from '@tidemark/util';
import {
  driverSaysRetriable,
  MONGO_CODES,
  MongoApplyTargetError,
  serverCode,
  type MongoErrorClassifier,
} from './mongo-apply-target-error';

/** How documents are decoded on the way out, so their BSON types survive (the head-store's `fromRawBson` rule). */
export { WRAPPED_VALUES } from '@tidemark/util';

/**
 * Index spec fields that are bookkeeping of the server that wrote the spec, not part of the index (as the
 * head-builder's `MongoHeadWriter` drops them): the head's indexes get the backup server's default version.
 */
const INDEX_BOOKKEEPING_FIELDS = ['v', 'ns', 'background'];

export interface MongoApplyTargetOptions {
  /**
   * Declare read-your-writes (the applier then applies `$v:2` diffs as exact post-images). True for a client
   * that reads from the primary it writes to, which is how this target reads.
   */
  readonly readYourWrites: boolean;
  /** Retriable or not, for a driver failure. Default: only what the driver itself flags as transient. */
  readonly isRetriable?: MongoErrorClassifier;
}

/** A filter on `_id`; the value is any BSON value (the driver's `_id` typing assumes ObjectId). */
function byId(id: unknown): Filter<Document> {
  return { _id: id } as Filter<Document>;
}

/**
 * The document as the driver should write it: `_id` first, and in the source's field order where a JS object
 * cannot keep it (`inSourceOrder` of `@tidemark/util`: such documents become `Map`s).
 */
function idFirst(doc: Document): Document {
  const ordered = inSourceOrder(doc) as Document | Map<string, unknown>;
  if (ordered instanceof Map) {
    if (!ordered.has('_id') || ordered.keys().next().value === '_id') return ordered as unknown as Document;
    const map = new Map<string, unknown>([
      ['_id', ordered.get('_id')],
      ...[...ordered].filter(([k]) => k !== '_id'),
    ]);
    Object.defineProperty(map, '_id', { value: ordered.get('_id'), enumerable: false });
    return map as unknown as Document;
  }
  if (!Object.prototype.hasOwnProperty.call(ordered, '_id')) return { ...ordered };
  const { _id, ...rest } = ordered;
  return { _id, ...rest };
}

export class MongoApplyTarget implements ApplyTarget {
  readonly capabilities: ApplyTargetCapabilities;
  private readonly isRetriable: MongoErrorClassifier;

  constructor(
    private readonly client: MongoClient,
    options: MongoApplyTargetOptions,
  ) {
    this.capabilities = Object.freeze({ readYourWrites: options.readYourWrites });
    this.isRetriable = options.isRetriable ?? driverSaysRetriable;
  }

  /**
   * An insert first, and the `replaceOne` upsert by `_id` only when the insert meets a duplicate key (a redelivered
   * entry, or a document the initial sync already copied). The same effect either way; the insert is what makes
   * it cheap where the server finds a document by `_id` slowly: FerretDB 1.24 on SQLite looks `_id` up with a
   * full scan (its `_id` index is on an expression its queries do not use), while an insert is checked against
   * that unique index directly. A duplicate on another unique index fails the upsert too, as before.
   */
  async insertOrReplace(ns: string, doc: Document): Promise<void> {
    const first = idFirst(doc);
    const inserted = await this.run(
      'insertOrReplace',
      ns,
      async () => {
        await this.collection(ns).insertOne(first);
        return true;
      },
      [MONGO_CODES.DuplicateKey],
    );
    if (inserted) return;
    await this.run('insertOrReplace', ns, async () => {
      await this.collection(ns).replaceOne(byId(doc['_id']), first, { upsert: true });
    });
  }

  async update(ns: string, filter: IdFilter, update: TargetUpdate): Promise<UpdateResult> {
    return this.run('update', ns, async () => {
      const coll = this.collection(ns);
      const result =
        update.kind === 'modifier'
          ? await coll.updateOne(byId(filter._id), inSourceOrder(update.spec as Document))
          : await coll.replaceOne(byId(filter._id), idFirst(update.doc));
      return { matched: result.matchedCount > 0 };
    });
  }

  async delete(ns: string, filter: IdFilter): Promise<DeleteResult> {
    return this.run('delete', ns, async () => {
      const result = await this.collection(ns).deleteOne(byId(filter._id));
      return { deleted: result.deletedCount > 0 };
    });
  }

  async findById(ns: string, filter: IdFilter): Promise<Document | null> {
    return this.run('findById', ns, async () =>
      this.collection(ns).findOne(byId(filter._id), { ...WRAPPED_VALUES, readPreference: 'primary' }),
    );
  }

  async createCollection(ns: string, options: Document): Promise<void> {
    const { db, coll } = splitNamespace(ns);
    await this.run(
      'createCollection',
      ns,
      async () => {
        await this.client.db(db).command({ create: coll, ...options });
      },
      [MONGO_CODES.NamespaceExists],
    );
  }

  async dropCollection(ns: string): Promise<void> {
    const { db, coll } = splitNamespace(ns);
    await this.run(
      'dropCollection',
      ns,
      async () => {
        await this.client.db(db).command({ drop: coll });
      },
      [MONGO_CODES.NamespaceNotFound],
    );
  }

  async renameCollection(from: string, to: string, dropTarget: boolean): Promise<void> {
    splitNamespace(from);
    splitNamespace(to);
    if (from === to) return;
    const what = `${from} -> ${to}`;
    const rename = (drop: boolean) =>
      this.run(
        'renameCollection',
        what,
        async () => {
          await this.client.db('admin').command({ renameCollection: from, to, dropTarget: drop });
        },
        [MONGO_CODES.NamespaceNotFound],
      );
    try {
      await rename(dropTarget);
    } catch (err) {
      // FerretDB has no `dropTarget`: drop the target, then rename. Not atomic, but a crash in between leaves a
      // state the redelivered entry completes (the source still exists, the target no longer does).
      if (!(dropTarget && err instanceof MongoApplyTargetError && err.code === MONGO_CODES.NotImplemented))
        throw err;
      if (!(await this.exists(from))) return;
      await this.dropCollection(to);
      await rename(false);
    }
  }

  async dropDatabase(db: string): Promise<void> {
    if (db === '' || db.includes('.')) {
      throw new MongoApplyTargetError({
        operation: 'dropDatabase',
        ns: db,
        retriable: false,
        cause: undefined,
        reason: `"${db}" is not a database name`,
      });
    }
    await this.run('dropDatabase', db, async () => {
      await this.client.db(db).command({ dropDatabase: 1 });
    });
  }

  async createIndexes(ns: string, specs: readonly IndexSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const { db, coll } = splitNamespace(ns);
    const indexes = specs.map((spec) =>
      Object.fromEntries(Object.entries(spec).filter(([field]) => !INDEX_BOOKKEEPING_FIELDS.includes(field))),
    );
    // One index per command: FerretDB 1.24 closes the connection on a createIndexes naming several indexes that
    // all exist already (a re-applied entry); MongoDB takes either form.
    for (const index of indexes) {
      await this.run('createIndexes', ns, async () => {
        await this.client.db(db).command({ createIndexes: coll, indexes: [index] });
      });
    }
  }

  async dropIndexes(ns: string, names: readonly string[] | '*'): Promise<void> {
    const { db, coll } = splitNamespace(ns);
    // One name at a time: a server fails the whole command when one of several names is missing.
    for (const index of names === '*' ? ['*'] : names) {
      await this.run(
        'dropIndexes',
        ns,
        async () => {
          await this.client.db(db).command({ dropIndexes: coll, index });
        },
        [MONGO_CODES.NamespaceNotFound, MONGO_CODES.IndexNotFound],
      );
    }
  }

  async collMod(ns: string, options: Document): Promise<void> {
    const { db, coll } = splitNamespace(ns);
    await this.run(
      'collMod',
      ns,
      async () => {
        await this.client.db(db).command({ collMod: coll, ...options });
      },
      [MONGO_CODES.NamespaceNotFound, MONGO_CODES.IndexNotFound],
    );
  }

  async convertToCapped(
    ns: string,
    options: { readonly size: number; readonly max?: number },
  ): Promise<void> {
    const { db, coll } = splitNamespace(ns);
    const command: Document = { convertToCapped: coll, size: options.size };
    if (options.max !== undefined) command['max'] = options.max;
    await this.run(
      'convertToCapped',
      ns,
      async () => {
        await this.client.db(db).command(command);
      },
      [MONGO_CODES.NamespaceNotFound],
    );
  }

  private async exists(ns: string): Promise<boolean> {
    const { db, coll } = splitNamespace(ns);
    return this.run('listCollections', ns, async () => {
      const found = await this.client.db(db).listCollections({ name: coll }, { nameOnly: true }).toArray();
      return found.length > 0;
    });
  }

  private collection(ns: string): Collection<Document> {
    const { db, coll } = splitNamespace(ns);
    return this.client.db(db).collection<Document>(coll);
  }

  /**
   * Runs one driver call. Server codes in `done` mean "already in the wanted state" and resolve undefined; every
   * other failure is wrapped with the operation, the namespace and the classifier's verdict.
   */
  private async run<T>(
    operation: string,
    ns: string,
    call: () => Promise<T>,
    done: readonly number[] = [],
  ): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const code = serverCode(err);
      if (code !== undefined && done.includes(code)) return undefined as T;
      throw new MongoApplyTargetError({ operation, ns, retriable: this.isRetriable(err), cause: err });
    }
  }
}
