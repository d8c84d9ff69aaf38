/**
 * `MongoRestoreCatalog`: job-state's record of restores (`RestoreCatalog` of `@tidemark/jobs`) in
 * `<TIDEMARK_META_DB>.restores`, one document per restore, `_id` = restore id, written only by job-state.
 * Positions are BSON Timestamps, absent values `null`, progress per namespace a list (namespace names hold dots,
 * which field names must not); `v` is the format version (`RESTORE_CATALOG_FORMAT`, docs/format.md "Stored
 * records"), checked before anything else is read. `replace` is a compare-and-set on `revision`.
 */
import { Timestamp, type Collection, type Filter, type MongoClient } from 'mongodb';
import {
  checkRecordVersion,
  documentLocation,
  recordFormat,
  versionFilters,
  type RestoreEventKind,
  type RestoreKind,
} from '@tidemark/domain';
import {
  compareRestoresNewestFirst,
  type RestoreCatalog,
  type RestoreEntry,
  type RestoreListQuery,
  type RestoreState,
  type StoreErrorClassifier,
} from '@tidemark/jobs';

import { guardCatalogCall } from './catalog-guard';
export const RESTORES_COLLECTION = 'restores';
/** 2 adds the outbox (`unpublished`, `owed`); a format-1 document reads with nothing owed. */
export const RESTORE_CATALOG_FORMAT = recordFormat('restore catalog entry', 2, [1, 2]);
const READABLE = versionFilters(RESTORE_CATALOG_FORMAT).readable as Filter<RestoreDocument>;
const MAJORITY = { writeConcern: { w: 'majority' as const } };
const DUPLICATE_KEY = 11000;

interface RestoreDocument {
  _id: string;
  v?: number;
  jobId: string;
  kind: RestoreKind;
  snapshotId: string | null;
  point: string | null;
  opTs: Timestamp | null;
  opWallTime: Date | null;
  target: string;
  include: string[];
  exclude: string[];
  renames: string[];
  drop: boolean;
  state: RestoreState;
  cancelRequested: boolean;
  documents: number;
  bytes: number;
  entries: number;
  namespaces: { ns: string; documents: number; done: boolean }[];
  reason: string | null;
  startedAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
  revision: number;
  /** Absent in format 1. */
  unpublished?: { kind: RestoreEventKind; at: Date }[];
  /** How many events are owed (`unpublished.length`), indexed, for the outbox's flush. Absent in format 1. */
  owed?: number;
}

export class MongoRestoreCatalog implements RestoreCatalog {
  private readonly restores: Collection<RestoreDocument>;

  constructor(
    client: MongoClient,
    private readonly dbName: string,
    private readonly classify: StoreErrorClassifier,
  ) {
    this.restores = client.db(dbName).collection<RestoreDocument>(RESTORES_COLLECTION);
  }

  async init(): Promise<void> {
    await this.guard('create the restore catalog indexes', async () => {
      await this.restores.createIndex({ jobId: 1, startedAt: -1 }, { name: 'job-newest' });
      await this.restores.createIndex({ startedAt: -1 }, { name: 'newest' });
      await this.restores.createIndex({ state: 1, startedAt: -1 }, { name: 'state-newest' });
      await this.restores.createIndex({ owed: 1 }, { name: 'owed' });
    });
  }

  async insert(entry: RestoreEntry): Promise<boolean> {
    return this.guard(`record restore ${entry.restoreId}`, async () => {
      try {
        await this.restores.insertOne(toDocument(entry), MAJORITY);
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false;
        throw err;
      }
    });
  }

  async get(restoreId: string): Promise<RestoreEntry | undefined> {
    const doc = await this.guard(`read restore ${restoreId}`, () =>
      this.restores.findOne({ _id: restoreId }),
    );
    return doc === null ? undefined : this.fromDocument(doc);
  }

  async replace(entry: RestoreEntry, expectedRevision: number): Promise<boolean> {
    return this.guard(`write restore ${entry.restoreId}`, async () => {
      const result = await this.restores.replaceOne(
        { _id: entry.restoreId, revision: expectedRevision, ...READABLE },
        toDocument(entry),
        MAJORITY,
      );
      return result.matchedCount === 1;
    });
  }

  async list(query: RestoreListQuery): Promise<RestoreEntry[]> {
    const filter: Filter<RestoreDocument> = {};
    if (query.jobId !== undefined) filter.jobId = query.jobId;
    if (query.state !== undefined) filter.state = query.state;
    if (query.unpublished === true) filter.owed = { $gt: 0 };
    const docs = await this.guard(
      `list restores${query.jobId === undefined ? '' : ` of job ${query.jobId}`}` +
        `${query.state === undefined ? '' : ` in state ${query.state}`}` +
        `${query.unpublished === true ? ' owing events' : ''}`,
      () => this.restores.find(filter).sort({ startedAt: -1, _id: -1 }).limit(query.limit).toArray(),
    );
    return docs.map((d) => this.fromDocument(d)).sort(compareRestoresNewestFirst);
  }

  private fromDocument(d: RestoreDocument): RestoreEntry {
    checkRecordVersion(RESTORE_CATALOG_FORMAT, d, documentLocation(this.dbName, RESTORES_COLLECTION, d._id));
    return {
      restoreId: d._id,
      jobId: d.jobId,
      kind: d.kind,
      snapshotId: d.snapshotId ?? undefined,
      point: d.point ?? undefined,
      at:
        d.opTs === null
          ? undefined
          : {
              opTime: { t: d.opTs.getHighBitsUnsigned(), i: d.opTs.getLowBitsUnsigned() },
              wallTime: d.opWallTime ?? undefined,
            },
      target: d.target,
      selection: { include: d.include, exclude: d.exclude, renames: d.renames },
      drop: d.drop,
      state: d.state,
      cancelRequested: d.cancelRequested,
      progress: {
        documents: Number(d.documents),
        bytes: Number(d.bytes),
        entries: Number(d.entries),
        namespaces: Object.fromEntries(
          d.namespaces.map((n) => [n.ns, { documents: Number(n.documents), done: n.done }]),
        ),
      },
      reason: d.reason ?? undefined,
      startedAt: d.startedAt,
      updatedAt: d.updatedAt,
      endedAt: d.endedAt ?? undefined,
      revision: d.revision,
      unpublished: (d.unpublished ?? []).map((u) => ({ kind: u.kind, at: u.at })),
    };
  }

  private guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    return guardCatalogCall('restore catalog', this.classify, what, op);
  }
}

function toDocument(e: RestoreEntry): RestoreDocument {
  return {
    _id: e.restoreId,
    v: RESTORE_CATALOG_FORMAT.current,
    jobId: e.jobId,
    kind: e.kind,
    snapshotId: e.snapshotId ?? null,
    point: e.point ?? null,
    opTs: e.at === undefined ? null : new Timestamp({ t: e.at.opTime.t, i: e.at.opTime.i }),
    opWallTime: e.at?.wallTime ?? null,
    target: e.target,
    include: [...e.selection.include],
    exclude: [...e.selection.exclude],
    renames: [...e.selection.renames],
    drop: e.drop,
    state: e.state,
    cancelRequested: e.cancelRequested,
    documents: e.progress.documents,
    bytes: e.progress.bytes,
    entries: e.progress.entries,
    namespaces: Object.entries(e.progress.namespaces).map(([ns, n]) => ({
      ns,
      documents: n.documents,
      done: n.done,
    })),
    reason: e.reason ?? null,
    startedAt: e.startedAt,
    updatedAt: e.updatedAt,
    endedAt: e.endedAt ?? null,
    revision: e.revision,
    unpublished: e.unpublished.map((u) => ({ kind: u.kind, at: u.at })),
    owed: e.unpublished.length,
  };
}
