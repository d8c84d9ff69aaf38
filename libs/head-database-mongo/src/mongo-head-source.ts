/**
 * `MongoHeadSource`: the `HeadSource` port of `@tidemark/snapshots` on the backup-side MongoDB, the snapshotter's
 * read access to a job's head database.
 *
 * - **Namespaces** are what the head holds now, not what the transfer copied: every collection of the sync's head
 *   databases, so collections the oplog created after the initial sync are included, collections it dropped are
 *   not, and empty collections are included. The head databases are those the catalogs name plus those the
 *   oplog-applier recorded before writing into them (`recordingDatabases` of `@tidemark/head-database`); a head
 *   record from before that recording falls back to every database named `th_<jobId>_<syncNo>_*`
 *   (`headDatabasePrefix`) that `listDatabases` shows. A head database is named back to its source
 *   database through the scan (and missing-documents) catalog of the head record, else by stripping the prefix
 *   when that is what `headDatabaseName` would have produced. A database whose head name had to be shortened
 *   (characters outside `[A-Za-z0-9_-]`, or too long) and that the catalog does not know cannot be named back:
 *   {@link HeadNamespaceUnknownError} (never a guess). `system.*` collections are the server's and are left out.
 *   Options and index specs are the head's own (`listCollections`, `listIndexes`), as the server reports them.
 *   A view is listed with its options (`viewOn`, `pipeline`), no indexes and no documents (a restore recreates it
 *   from its options; reading it would run its pipeline); FerretDB has no views, so this only matters on MongoDB.
 *   A collection type this build does not know is refused (`TidemarkError`, not retriable), never skipped.
 * - **Documents** are read with `raw: true`: each item is the document's BSON exactly as the server returned it,
 *   never decoded and re-encoded, in ascending `_id` order, streamed in batches (never the whole collection);
 *   `documentBatches` hands each batch over whole.
 * - **Catalog namespaces** (`catalogNamespaces`) are the scan and missing-documents catalogs' namespaces, read from
 *   the head record without listing the server, so a snapshot can start copying while `listNamespaces` runs (on
 *   FerretDB `listDatabases` takes seconds: it computes every database's size even with `nameOnly`).
 * - **The applied position** is the head record's `appliedTs`. The record keeps no wall time of the entry at that
 *   position (`appliedAt` is when it was written, not the entry's `wall`), so `wallTime` is never set.
 *
 * Reads are not isolated from the oplog-applier: a caller that needs one consistent position holds the job's apply
 * fence (`MongoApplyFence`) around them.
 */
import type { Document, MongoClient } from 'mongodb';
import {
  headDatabaseName,
  headDatabasePrefix,
  headNamespace,
  parseSyncId,
  splitNamespace,
  TidemarkError,
  type HeadRegistry,
} from '@tidemark/domain';
import type { AppliedPosition, HeadNamespaceInfo, HeadSource, IndexSpec } from '@tidemark/snapshots';

/** A head database whose source database cannot be named (a shortened name the catalog does not list). */
export class HeadNamespaceUnknownError extends TidemarkError {
  override readonly name = 'HeadNamespaceUnknownError';
  constructor(
    readonly jobId: string,
    readonly syncId: string,
    readonly headDatabase: string,
  ) {
    super(
      `head of ${syncId}: database ${headDatabase} has a shortened name that no catalog of the sync lists, so ` +
        'its source database name is unknown; a snapshot cannot name its namespaces',
      { retriable: false },
    );
  }
}

/** Documents per round trip when streaming a collection: bounds memory at about this many documents. */
const DOCUMENT_BATCH = 500;
const SHORTENED = /_[0-9a-f]{8}$/;

export class MongoHeadSource implements HeadSource {
  constructor(
    private readonly client: MongoClient,
    private readonly registry: HeadRegistry,
  ) {}

  async listNamespaces(jobId: string, syncId: string): Promise<HeadNamespaceInfo[]> {
    const syncNo = this.syncNo(jobId, syncId);
    const sourceDbOf = await this.sourceDatabases(jobId, syncId, syncNo);
    const prefix = headDatabasePrefix(jobId, syncNo);
    const out: HeadNamespaceInfo[] = [];
    for (const name of await this.headDatabases(jobId, syncId, prefix, sourceDbOf)) {
      const sourceDb = sourceDbOf.get(name) ?? plainSourceDb(name, prefix, jobId, syncNo);
      if (sourceDb === undefined) throw new HeadNamespaceUnknownError(jobId, syncId, name);
      const db = this.client.db(name);
      for await (const info of db.listCollections({}, { nameOnly: false })) {
        const coll = info.name as string;
        if (coll.startsWith('system.')) continue;
        const indexes: IndexSpec[] = [];
        if (kindOf(info, `${name}.${coll}`) === 'data')
          for await (const spec of db.collection(coll).listIndexes()) indexes.push({ ...spec });
        out.push({
          namespace: `${sourceDb}.${coll}`,
          options: { ...((info as { options?: Document }).options ?? {}) },
          indexes,
        });
      }
    }
    return out.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  }

  /** The source namespaces of the sync's scan and missing-documents catalogs (from the head record alone). */
  async catalogNamespaces(jobId: string, syncId: string): Promise<readonly string[]> {
    this.syncNo(jobId, syncId);
    const head = await this.registry.get(jobId, syncId);
    const names = new Set<string>();
    for (const n of head?.scan?.namespaces ?? []) names.add(n.ns);
    for (const n of head?.missing?.namespaces ?? []) names.add(n.ns);
    return [...names].sort();
  }

  async *documents(jobId: string, syncId: string, namespace: string): AsyncIterable<Uint8Array> {
    for await (const batch of this.documentBatches(jobId, syncId, namespace)) yield* batch;
  }

  /** The documents a cursor batch at a time: the first one it yields, then the rest the batch holds. */
  async *documentBatches(jobId: string, syncId: string, namespace: string): AsyncIterable<Uint8Array[]> {
    const { db, coll } = splitNamespace(headNamespace(jobId, this.syncNo(jobId, syncId), namespace));
    const [info] = await this.client.db(db).listCollections({ name: coll }, { nameOnly: false }).toArray();
    if (info !== undefined && kindOf(info, `${db}.${coll}`) === 'view') return;
    const cursor = this.client
      .db(db)
      .collection(coll)
      .find({}, { raw: true, sort: { _id: 1 }, batchSize: DOCUMENT_BATCH });
    try {
      for await (const first of cursor) {
        const batch = [first as unknown as Uint8Array];
        for (const raw of cursor.readBufferedDocuments()) batch.push(raw as unknown as Uint8Array);
        yield batch;
      }
    } finally {
      await cursor.close();
    }
  }

  async appliedPosition(jobId: string, syncId: string): Promise<AppliedPosition | undefined> {
    const head = await this.registry.get(jobId, syncId);
    return head?.appliedTs === undefined ? undefined : { opTime: head.appliedTs };
  }

  private syncNo(jobId: string, syncId: string): number {
    const parsed = parseSyncId(syncId);
    if (parsed.jobId !== jobId) throw new RangeError(`sync ${syncId} is not a sync of job ${jobId}`);
    return parsed.syncNo;
  }

  /**
   * The sync's head databases: those its catalogs name plus those recorded before the oplog-applier wrote into them
   * (`HeadRegistry.recordDatabase`); for a head record from before that recording, every database of the server
   * with the sync's prefix (`listDatabases`, which FerretDB answers only after sizing every database).
   */
  private async headDatabases(
    jobId: string,
    syncId: string,
    prefix: string,
    catalogued: ReadonlyMap<string, string>,
  ): Promise<string[]> {
    const recorded = await this.registry.recordedDatabases(jobId, syncId);
    const names =
      recorded === undefined
        ? (await this.client.db('admin').admin().listDatabases({ nameOnly: true })).databases.map(
            (d) => d.name,
          )
        : [...catalogued.keys(), ...recorded];
    return [...new Set(names)].filter((name) => name.startsWith(prefix)).sort();
  }

  /** Head database name → source database name, for every database the sync's catalogs name. */
  private async sourceDatabases(jobId: string, syncId: string, syncNo: number): Promise<Map<string, string>> {
    const head = await this.registry.get(jobId, syncId);
    const sourceNs = [
      ...(head?.scan?.namespaces ?? []).map((n) => n.ns),
      ...(head?.missing?.namespaces ?? []).map((n) => n.ns),
    ];
    const map = new Map<string, string>();
    for (const ns of sourceNs) {
      const { db } = splitNamespace(ns);
      map.set(headDatabaseName(jobId, syncNo, db), db);
    }
    return map;
  }
}

/** Collection types: `data` has documents and indexes, `view` only its definition. */
const KINDS: Readonly<Record<string, 'data' | 'view'>> = {
  collection: 'data',
  timeseries: 'data',
  view: 'view',
};

function kindOf(info: { type?: string }, ns: string): 'data' | 'view' {
  const type = info.type ?? 'collection';
  const kind = Object.hasOwn(KINDS, type) ? KINDS[type] : undefined;
  if (kind === undefined)
    throw new TidemarkError(`head namespace ${ns} is of type ${String(info.type)}, unknown to this build`, {
      retriable: false,
    });
  return kind;
}

/**
 * The source database of head database `name` when its name was not shortened: the part after the prefix, if
 * `headDatabaseName` gives `name` back for it and it does not look shortened (`_` and 8 hex digits at the end,
 * which a plain name may also have: then it is ambiguous, and `undefined`).
 */
function plainSourceDb(name: string, prefix: string, jobId: string, syncNo: number): string | undefined {
  const candidate = name.slice(prefix.length);
  if (candidate === '' || SHORTENED.test(candidate)) return undefined;
  return headDatabaseName(jobId, syncNo, candidate) === name ? candidate : undefined;
}
