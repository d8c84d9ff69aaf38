import { Timestamp, type Collection, type MongoClient } from 'mongodb';
import {
  compareOpTime,
  type HeadCatalog,
  type HeadMark,
  type HeadRecord,
  type HeadRegistry,
  type OpTime,
  type SliceOrigin,
} from '@tidemark/domain';

export const DEFAULT_META_DB = 'tidemark_meta';

interface TsCatalog extends Omit<HeadCatalog, 'startTs' | 'endTs'> {
  startTs: Timestamp;
  endTs: Timestamp;
}

interface HeadDoc extends Omit<HeadRecord, 'appliedTs' | 'scan'> {
  _id: string;
  appliedTs?: Timestamp;
  scan?: TsCatalog;
}

interface BuiltDoc {
  _id: string;
  jobId: string;
  syncId: string;
  origin: SliceOrigin;
  ns: string;
  at: Date;
}

const toTs = (p: OpTime) => new Timestamp({ t: p.t, i: p.i });
const fromTs = (ts: Timestamp): OpTime => ({ t: ts.t, i: ts.i });
const headId = (jobId: string, syncId: string) => `${jobId}/${syncId}`;

/** Head records in the meta database: `heads` (one per job and sync) and `built_slices`. */
export class MongoHeadRegistry implements HeadRegistry {
  private readonly heads: Collection<HeadDoc>;
  private readonly built: Collection<BuiltDoc>;

  constructor(client: MongoClient, dbName = process.env['TIDEMARK_META_DB'] ?? DEFAULT_META_DB) {
    const db = client.db(dbName);
    this.heads = db.collection<HeadDoc>('heads');
    this.built = db.collection<BuiltDoc>('built_slices');
  }

  async init(): Promise<void> {
    await this.built.createIndexes([{ key: { jobId: 1, syncId: 1, origin: 1 }, name: 'job_sync_origin' }]);
    await this.heads.createIndexes([{ key: { jobId: 1 }, name: 'job' }]);
  }

  async get(jobId: string, syncId: string): Promise<HeadRecord | undefined> {
    const doc = await this.heads.findOne({ _id: headId(jobId, syncId) });
    return doc ? toRecord(doc) : undefined;
  }

  async listForJob(jobId: string): Promise<HeadRecord[]> {
    const out: HeadRecord[] = [];
    for await (const doc of this.heads.find({ jobId })) out.push(toRecord(doc));
    return out;
  }

  async recordScanCatalog(
    jobId: string,
    syncId: string,
    syncNo: number,
    catalog: HeadCatalog,
  ): Promise<void> {
    const scan: TsCatalog = { ...catalog, startTs: toTs(catalog.startTs), endTs: toTs(catalog.endTs) };
    await this.heads.updateOne(
      { _id: headId(jobId, syncId) },
      { $set: { jobId, syncId, syncNo, scan } },
      { upsert: true },
    );
    await this.heads.updateOne(
      { _id: headId(jobId, syncId), appliedTs: { $exists: false } },
      { $set: { appliedTs: toTs(catalog.startTs), appliedAt: new Date() } },
    );
  }

  async recordMissingCatalog(
    jobId: string,
    syncId: string,
    namespaces: NonNullable<HeadRecord['missing']>['namespaces'],
  ): Promise<void> {
    await this.heads.updateOne(
      { _id: headId(jobId, syncId) },
      { $set: { jobId, syncId, missing: { namespaces } } },
      { upsert: true },
    );
  }

  async markBuilt(
    sliceId: string,
    info: { jobId: string; syncId: string; origin: SliceOrigin; ns: string },
  ): Promise<void> {
    await this.built.replaceOne({ _id: sliceId }, { ...info, at: new Date() }, { upsert: true });
  }

  async isBuilt(sliceId: string): Promise<boolean> {
    return (await this.built.countDocuments({ _id: sliceId }, { limit: 1 })) > 0;
  }

  async countBuilt(jobId: string, syncId: string, origin: SliceOrigin): Promise<number> {
    return this.built.countDocuments({ jobId, syncId, origin });
  }

  async mark(jobId: string, syncId: string, mark: HeadMark): Promise<boolean> {
    const res = await this.heads.updateOne(
      { _id: headId(jobId, syncId), [mark]: { $exists: false } },
      { $set: { [mark]: new Date() } },
    );
    return res.modifiedCount === 1;
  }

  async setAppliedTs(jobId: string, syncId: string, ts: OpTime): Promise<OpTime> {
    await this.heads.updateOne(
      {
        _id: headId(jobId, syncId),
        $or: [{ appliedTs: { $exists: false } }, { appliedTs: { $lt: toTs(ts) } }],
      },
      { $set: { appliedTs: toTs(ts), appliedAt: new Date() } },
    );
    const doc = await this.heads.findOne({ _id: headId(jobId, syncId) }, { projection: { appliedTs: 1 } });
    if (!doc?.appliedTs)
      throw new Error(`head ${headId(jobId, syncId)} has no applied position after setting it`);
    const stored = fromTs(doc.appliedTs);
    if (compareOpTime(stored, ts) < 0)
      throw new Error(`head ${headId(jobId, syncId)}: position did not advance`);
    return stored;
  }

  async remove(jobId: string, syncId: string): Promise<void> {
    await this.built.deleteMany({ jobId, syncId });
    await this.heads.deleteOne({ _id: headId(jobId, syncId) });
  }
}

function toRecord(doc: HeadDoc): HeadRecord {
  const { _id: _ignored, appliedTs, scan, ...rest } = doc;
  const rec: HeadRecord = { ...rest };
  if (appliedTs) rec.appliedTs = fromTs(appliedTs);
  if (scan) rec.scan = { ...scan, startTs: fromTs(scan.startTs), endTs: fromTs(scan.endTs) };
  return rec;
}
