/**
 * The snapshot records and the job's snapshot lock in the backup-side MongoDB, shared by the `blockstore` and `s3`
 * stores (docs/format.md, "Snapshot stores"):
 *
 * - `snapshots`: `{ _id: "<jobId>:<snapshotId>", v: 1, jobId, snapshotId, state, reason?, takenAt: Date,
 *   manifest: "<relaxed EJSON>" }`, index `{ jobId: 1, takenAt: -1 }`;
 * - `snapshot_locks`: the job's lock as generations (`generation-lock.ts`): `{ _id: "<jobId>#<generation>", v: 1,
 *   jobId, generation, owner: string | null, expiresAt: Date | null, at: Date }`, index `{ jobId: 1, generation: -1 }`;
 *   the highest generation is the state, a new one is taken by inserting the next `_id` (a duplicate key means the
 *   race was lost). Times are the caller's clock; owners' clocks must agree to well within the TTL.
 *
 * Format versions (docs/format.md, "Stored records"): a reader checks `v` first; a write never changes a document
 * of a version this build does not read (the call that meets it throws `UnknownFormatVersionError`); `deleteJob`
 * removes the job's documents whatever their version.
 */
import type { Collection, Filter, MongoClient } from 'mongodb';
import { checkRecordVersion, documentLocation, versionFilters } from '@tidemark/domain';
import type { SnapshotRecord, StoreLockGrant } from '@tidemark/snapshots';
import { acquireLock, releaseLock, renewLock, type LockGenerations } from './generation-lock';
import { driverMongoClassifier, isDuplicateKey, mongoGuard } from './mongo-guard';
import {
  SNAPSHOT_LOCK_FORMAT,
  SNAPSHOT_RECORD_FORMAT,
  checkRecordToWrite,
  manifestToText,
  newestFirst,
  recordFromStored,
} from './record-codec';
import { SnapshotRecordInvalidError, type StoreErrorClassifier } from './store-errors';
import { checkJobId, checkSnapshotId } from './store-keys';

/** The database the MongoDB-backed stores use unless told otherwise. */
export const DEFAULT_SNAPSHOTS_DATABASE = 'tidemark_snapshots';
export const SNAPSHOTS_COLLECTION = 'snapshots';
export const SNAPSHOT_LOCKS_COLLECTION = 'snapshot_locks';

interface RecordDoc {
  _id: string;
  v?: unknown;
  jobId: string;
  snapshotId: string;
  state: string;
  reason?: string;
  takenAt: Date;
  manifest: string;
}

interface LockDoc {
  _id: string;
  v?: unknown;
  jobId: string;
  generation: number;
  owner: string | null;
  expiresAt: Date | null;
  at: Date;
}

const RECORD_READABLE = versionFilters(SNAPSHOT_RECORD_FORMAT).readable as Filter<RecordDoc>;

export class MongoSnapshotMetadata {
  private readonly records: Collection<RecordDoc>;
  private readonly locks: Collection<LockDoc>;

  constructor(
    client: MongoClient,
    readonly database: string,
    private readonly clock: () => number = Date.now,
    private readonly classify: StoreErrorClassifier = driverMongoClassifier,
  ) {
    this.records = client.db(database).collection<RecordDoc>(SNAPSHOTS_COLLECTION);
    this.locks = client.db(database).collection<LockDoc>(SNAPSHOT_LOCKS_COLLECTION);
  }

  /** Creates the indexes (idempotent). */
  async init(): Promise<void> {
    await mongoGuard(this.classify, 'init', this.database, async () => {
      await this.records.createIndex({ jobId: 1, takenAt: -1 });
      await this.locks.createIndex({ jobId: 1, generation: -1 });
    });
  }

  async putSnapshot(record: SnapshotRecord): Promise<void> {
    const { jobId, snapshotId } = checkRecordToWrite(record);
    const _id = `${jobId}:${snapshotId}`;
    const doc: RecordDoc = {
      _id,
      v: SNAPSHOT_RECORD_FORMAT.current,
      jobId,
      snapshotId,
      state: record.state,
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      takenAt: record.manifest.takenAt,
      manifest: manifestToText(record.manifest),
    };
    await mongoGuard(this.classify, 'putSnapshot', this.recordWhere(_id), async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.records.replaceOne({ _id, ...RECORD_READABLE }, doc, { upsert: true });
          return;
        } catch (err) {
          // The filter matched nothing and the insert collided: a record of an unknown version (throws), or a
          // concurrent insert of the same record (replace it on the next round).
          if (!isDuplicateKey(err) || attempt >= 3) throw err;
          await this.checkRecord(_id);
        }
      }
    });
  }

  async getSnapshot(jobId: string, snapshotId: string): Promise<SnapshotRecord | undefined> {
    const _id = `${checkJobId(jobId)}:${checkSnapshotId(snapshotId)}`;
    const where = this.recordWhere(_id);
    return mongoGuard(this.classify, 'getSnapshot', where, async () => {
      const doc = await this.records.findOne({ _id });
      return doc === null ? undefined : this.toRecord(doc, where, { jobId, snapshotId });
    });
  }

  async listSnapshots(jobId: string): Promise<SnapshotRecord[]> {
    checkJobId(jobId);
    return mongoGuard(
      this.classify,
      'listSnapshots',
      `${this.database}.${SNAPSHOTS_COLLECTION}`,
      async () => {
        const out: SnapshotRecord[] = [];
        for await (const doc of this.records.find({ jobId }).sort({ takenAt: -1 })) {
          out.push(this.toRecord(doc, this.recordWhere(doc._id), { jobId }));
        }
        return out.sort(newestFirst);
      },
    );
  }

  async deleteSnapshot(jobId: string, snapshotId: string): Promise<void> {
    const _id = `${checkJobId(jobId)}:${checkSnapshotId(snapshotId)}`;
    await mongoGuard(this.classify, 'deleteSnapshot', this.recordWhere(_id), async () => {
      const result = await this.records.deleteOne({ _id, ...RECORD_READABLE });
      if (result.deletedCount === 0) await this.checkRecord(_id);
    });
  }

  async acquireLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    const gens = this.lockGenerations(jobId);
    return mongoGuard(this.classify, 'acquireLock', gens.location, () =>
      acquireLock(gens, jobId, owner, ttlMs, this.clock),
    );
  }

  async renewLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    const gens = this.lockGenerations(jobId);
    return mongoGuard(this.classify, 'renewLock', gens.location, () =>
      renewLock(gens, jobId, owner, ttlMs, this.clock),
    );
  }

  async releaseLock(jobId: string, owner: string): Promise<void> {
    const gens = this.lockGenerations(jobId);
    await mongoGuard(this.classify, 'releaseLock', gens.location, () => releaseLock(gens, owner));
  }

  /** Removes the job's records (first, so no record outlives its blocks); see {@link deleteJobLock}. */
  async deleteJobRecords(jobId: string): Promise<void> {
    checkJobId(jobId);
    await mongoGuard(this.classify, 'deleteJob', `${this.database}.${SNAPSHOTS_COLLECTION}`, async () => {
      await this.records.deleteMany({ jobId });
    });
  }

  /** Removes the job's lock (last, once its blocks are gone). */
  async deleteJobLock(jobId: string): Promise<void> {
    checkJobId(jobId);
    await mongoGuard(this.classify, 'deleteJob', this.lockWhere(jobId), async () => {
      await this.locks.deleteMany({ jobId });
    });
  }

  private toRecord(
    doc: RecordDoc,
    where: string,
    expected: { jobId: string; snapshotId?: string },
  ): SnapshotRecord {
    checkRecordVersion(SNAPSHOT_RECORD_FORMAT, doc, where);
    const record = recordFromStored(doc, where, expected);
    if (!(doc.takenAt instanceof Date) || doc.takenAt.getTime() !== record.manifest.takenAt.getTime()) {
      // Listing sorts by this field: it must agree with the manifest.
      throw new SnapshotRecordInvalidError(where, 'takenAt disagrees with manifest.takenAt');
    }
    return record;
  }

  private async checkRecord(_id: string): Promise<void> {
    const doc = await this.records.findOne({ _id }, { projection: { v: 1 } });
    if (doc) checkRecordVersion(SNAPSHOT_RECORD_FORMAT, doc, this.recordWhere(_id));
  }

  private lockGenerations(jobId: string): LockGenerations {
    checkJobId(jobId);
    const newest = () => this.locks.find({ jobId }).sort({ generation: -1 }).limit(1).next();
    return {
      location: `${this.database}.${SNAPSHOT_LOCKS_COLLECTION} jobId ${JSON.stringify(jobId)}`,
      current: async () => {
        const doc = await newest();
        if (doc === null) return { generation: 0, owner: undefined, expiresAt: 0 };
        const where = this.lockWhere(doc._id);
        checkRecordVersion(SNAPSHOT_LOCK_FORMAT, doc, where);
        const ok =
          Number.isSafeInteger(doc.generation) &&
          doc.generation > 0 &&
          (doc.owner === null || (typeof doc.owner === 'string' && doc.expiresAt instanceof Date));
        if (!ok) throw new SnapshotRecordInvalidError(where, 'a lock needs generation, owner and expiresAt');
        return doc.owner === null
          ? { generation: doc.generation, owner: undefined, expiresAt: 0 }
          : { generation: doc.generation, owner: doc.owner, expiresAt: (doc.expiresAt as Date).getTime() };
      },
      highest: async () => (await newest())?.generation ?? 0,
      create: async (state) => {
        try {
          await this.locks.insertOne({
            _id: `${jobId}#${state.generation}`,
            v: SNAPSHOT_LOCK_FORMAT.current,
            jobId,
            generation: state.generation,
            owner: state.owner ?? null,
            expiresAt: state.owner === undefined ? null : new Date(state.expiresAt),
            at: new Date(this.clock()),
          });
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      },
      pruneBelow: async (generation) => {
        await this.locks.deleteMany({ jobId, generation: { $lt: generation } });
      },
    };
  }

  private recordWhere(id: string): string {
    return documentLocation(this.database, SNAPSHOTS_COLLECTION, id);
  }

  private lockWhere(jobId: string): string {
    return documentLocation(this.database, SNAPSHOT_LOCKS_COLLECTION, jobId);
  }
}
