/**
 * `MongoSnapshotCatalog`: job-state's catalog of snapshots (`SnapshotCatalog` of `@tidemark/jobs`) in
 * `<TIDEMARK_META_DB>.snapshot_catalog`, one document per snapshot, `_id` = snapshot id, written only by job-state.
 * Positions are BSON Timestamps, absent values `null`; `v` is the format version (`SNAPSHOT_CATALOG_FORMAT`,
 * docs/format.md "Stored records"), checked before anything else is read.
 */
import { Timestamp, type Collection, type Filter, type MongoClient } from 'mongodb';
import {
  checkRecordVersion,
  documentLocation,
  recordFormat,
  versionFilters,
  type SnapshotStoreKind,
} from '@tidemark/domain';
import {
  compareNewestFirst,
  type SnapshotCatalog,
  type SnapshotEntry,
  type SnapshotEntryState,
  type StoreErrorClassifier,
} from '@tidemark/jobs';

import { guardCatalogCall } from './catalog-guard';
export const SNAPSHOT_CATALOG_COLLECTION = 'snapshot_catalog';
export const SNAPSHOT_CATALOG_FORMAT = recordFormat('snapshot catalog entry', 1);
const READABLE = versionFilters(SNAPSHOT_CATALOG_FORMAT).readable as Filter<CatalogDocument>;
const MAJORITY = { writeConcern: { w: 'majority' as const } };

interface CatalogDocument {
  _id: string;
  v?: number;
  jobId: string;
  syncId: string | null;
  state: SnapshotEntryState;
  store: SnapshotStoreKind;
  opTs: Timestamp | null;
  opWallTime: Date | null;
  takenAt: Date | null;
  completedAt: Date | null;
  logicalBytes: number;
  storedBytes: number;
  namespaces: number;
  documents: number;
  manifestChecksum: string | null;
  reason: string | null;
  lastVerify: {
    requestId: string | null;
    ok: boolean;
    damagedBlocks: number;
    reason: string | null;
    at: Date;
  } | null;
  requestedAt: Date | null;
  updatedAt: Date;
}

export class MongoSnapshotCatalog implements SnapshotCatalog {
  private readonly entries: Collection<CatalogDocument>;

  constructor(
    client: MongoClient,
    private readonly dbName: string,
    private readonly classify: StoreErrorClassifier,
  ) {
    this.entries = client.db(dbName).collection<CatalogDocument>(SNAPSHOT_CATALOG_COLLECTION);
  }

  async init(): Promise<void> {
    await this.guard('create the snapshot catalog index', () =>
      this.entries.createIndex({ jobId: 1 }, { name: 'job' }),
    );
  }

  async get(snapshotId: string): Promise<SnapshotEntry | undefined> {
    const doc = await this.guard(`read snapshot ${snapshotId}`, () =>
      this.entries.findOne({ _id: snapshotId }),
    );
    return doc === null ? undefined : this.fromDocument(doc);
  }

  async put(entry: SnapshotEntry): Promise<void> {
    await this.guard(`write snapshot ${entry.snapshotId}`, async () => {
      const replaced = await this.entries.replaceOne(
        { _id: entry.snapshotId, ...READABLE },
        toDocument(entry),
        MAJORITY,
      );
      if (replaced.matchedCount === 1) return;
      const existing = await this.entries.findOne({ _id: entry.snapshotId });
      if (existing !== null) {
        this.fromDocument(existing); // an unknown version throws here rather than being overwritten
      }
      await this.entries.replaceOne({ _id: entry.snapshotId }, toDocument(entry), {
        ...MAJORITY,
        upsert: true,
      });
    });
  }

  async listForJob(jobId: string): Promise<SnapshotEntry[]> {
    const docs = await this.guard(`list snapshots of job ${jobId}`, () =>
      this.entries.find({ jobId }).toArray(),
    );
    return docs.map((d) => this.fromDocument(d)).sort(compareNewestFirst);
  }

  async deleteForJob(jobId: string): Promise<void> {
    await this.guard(`delete the snapshots of job ${jobId}`, () =>
      this.entries.deleteMany({ jobId }, MAJORITY),
    );
  }

  private fromDocument(d: CatalogDocument): SnapshotEntry {
    checkRecordVersion(
      SNAPSHOT_CATALOG_FORMAT,
      d,
      documentLocation(this.dbName, SNAPSHOT_CATALOG_COLLECTION, d._id),
    );
    const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
    return {
      snapshotId: d._id,
      jobId: d.jobId,
      syncId: opt(d.syncId),
      state: d.state,
      store: d.store,
      opTime:
        d.opTs === null ? undefined : { t: d.opTs.getHighBitsUnsigned(), i: d.opTs.getLowBitsUnsigned() },
      opWallTime: opt(d.opWallTime),
      takenAt: opt(d.takenAt),
      completedAt: opt(d.completedAt),
      logicalBytes: Number(d.logicalBytes),
      storedBytes: Number(d.storedBytes),
      namespaces: Number(d.namespaces),
      documents: Number(d.documents),
      manifestChecksum: opt(d.manifestChecksum),
      reason: opt(d.reason),
      lastVerify:
        d.lastVerify === null
          ? undefined
          : {
              requestId: opt(d.lastVerify.requestId),
              ok: d.lastVerify.ok,
              damagedBlocks: Number(d.lastVerify.damagedBlocks),
              reason: opt(d.lastVerify.reason),
              at: d.lastVerify.at,
            },
      requestedAt: opt(d.requestedAt),
      updatedAt: d.updatedAt,
    };
  }

  private guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    return guardCatalogCall('snapshot catalog', this.classify, what, op);
  }
}

function toDocument(e: SnapshotEntry): CatalogDocument {
  return {
    _id: e.snapshotId,
    v: SNAPSHOT_CATALOG_FORMAT.current,
    jobId: e.jobId,
    syncId: e.syncId ?? null,
    state: e.state,
    store: e.store,
    opTs: e.opTime === undefined ? null : new Timestamp({ t: e.opTime.t, i: e.opTime.i }),
    opWallTime: e.opWallTime ?? null,
    takenAt: e.takenAt ?? null,
    completedAt: e.completedAt ?? null,
    logicalBytes: e.logicalBytes,
    storedBytes: e.storedBytes,
    namespaces: e.namespaces,
    documents: e.documents,
    manifestChecksum: e.manifestChecksum ?? null,
    reason: e.reason ?? null,
    lastVerify:
      e.lastVerify === undefined
        ? null
        : {
            requestId: e.lastVerify.requestId ?? null,
            ok: e.lastVerify.ok,
            damagedBlocks: e.lastVerify.damagedBlocks,
            reason: e.lastVerify.reason ?? null,
            at: e.lastVerify.at,
          },
    requestedAt: e.requestedAt ?? null,
    updatedAt: e.updatedAt,
  };
}
