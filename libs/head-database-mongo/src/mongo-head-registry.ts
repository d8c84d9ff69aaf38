import { MongoServerError, Timestamp, type Collection, type Filter, type MongoClient } from 'mongodb';
import {
  TidemarkError,
  formatOpTime,
  checkRecordVersion,
  compareOpTime,
  documentLocation,
  recordFormat,
  versionFilters,
  type RecordFormat,
  type HeadCatalog,
  type HeadMark,
  type HeadRecord,
  type HeadRegistry,
  type OpTime,
  type SliceOrigin,
} from '@tidemark/domain';

export const DEFAULT_META_DB = 'tidemark_meta';

/** Format of a `heads` document (docs/format.md, "Stored records"). */
export const HEAD_RECORD_FORMAT = recordFormat('head record', 1);
/** Format of a `head_databases` document. */
export const HEAD_DATABASE_FORMAT = recordFormat('head database record', 1);
export const HEAD_POSITION_FORMAT = recordFormat('head applied position', 1);
/** Format of a `built_slices` document. */
export const BUILT_SLICE_FORMAT = recordFormat('built-slice mark', 1);

const HEADS = 'heads';
const BUILT_SLICES = 'built_slices';
const HEAD_DATABASES = 'head_databases';
const HEAD_POSITIONS = 'head_positions';
const DUPLICATE_KEY = 11000;
const HEAD_VERSIONS = versionFilters(HEAD_RECORD_FORMAT);
const BUILT_VERSIONS = versionFilters(BUILT_SLICE_FORMAT);

interface TsCatalog extends Omit<HeadCatalog, 'startTs' | 'endTs'> {
  startTs: Timestamp;
  endTs: Timestamp;
}

interface HeadDoc extends Omit<HeadRecord, 'appliedTs' | 'scan'> {
  _id: string;
  /** Format version, `HEAD_RECORD_FORMAT`; absent in documents written before versions (read as 1). */
  v?: number;
  appliedTs?: Timestamp;
  scan?: TsCatalog;
}

/**
 * A head's applied position, in a document of its own (`_id` as the head record's): only the holder of the job's
 * apply lease updates it, so no write to the head record (marks, catalogs) can rewrite it. A server whose updates of a
 * document are not atomic (FerretDB 1.24 rewrites the whole document) put an older position back when both lived in
 * one document. Head records written before this keep their `appliedTs`, read when no position document exists.
 */
interface PositionDoc {
  _id: string;
  v: number;
  jobId: string;
  syncId: string;
  appliedTs: Timestamp;
  appliedAt: Date;
}

/** One recorded head database: `_id` is `<jobId>/<syncId>/<headDb>`, inserted once (a duplicate is a no-op). */
interface HeadDatabaseDoc {
  _id: string;
  v: number;
  jobId: string;
  syncId: string;
  db: string;
}

interface BuiltDoc {
  _id: string;
  /** Format version, `BUILT_SLICE_FORMAT`; absent in documents written before versions (read as 1). */
  v?: number;
  jobId: string;
  syncId: string;
  origin: SliceOrigin;
  ns: string;
  at: Date;
}

const toTs = (p: OpTime) => new Timestamp({ t: p.t, i: p.i });
const fromTs = (ts: Timestamp): OpTime => ({ t: ts.t, i: ts.i });
const headId = (jobId: string, syncId: string) => `${jobId}/${syncId}`;

/**
 * Head records in the meta database: `heads` (one per job and sync) and `built_slices`.
 *
 * Format versions: every read checks a document's `v` first and throws `UnknownFormatVersionError` for a version
 * this build does not read. Writes never change such a document: in-place updates carry the `readable` version
 * filter (a document they do not match is then read, so an unknown version throws instead of passing for "not
 * there"), upserts set `v` only on insert, and a replacement writes the current version whole only over a
 * document of a version this build reads.
 */
/** Updates of the applied position before a stored position behind it is given up on for this turn. */
const SET_APPLIED_ATTEMPTS = 5;

export class MongoHeadRegistry implements HeadRegistry {
  private readonly heads: Collection<HeadDoc>;
  private readonly built: Collection<BuiltDoc>;
  private readonly databases: Collection<HeadDatabaseDoc>;
  private readonly positions: Collection<PositionDoc>;

  constructor(
    client: MongoClient,
    private readonly dbName = process.env['TIDEMARK_META_DB'] ?? DEFAULT_META_DB,
  ) {
    const db = client.db(dbName);
    this.heads = db.collection<HeadDoc>(HEADS);
    this.built = db.collection<BuiltDoc>(BUILT_SLICES);
    this.databases = db.collection<HeadDatabaseDoc>(HEAD_DATABASES);
    this.positions = db.collection<PositionDoc>(HEAD_POSITIONS);
  }

  async init(): Promise<void> {
    await this.built.createIndexes([{ key: { jobId: 1, syncId: 1, origin: 1 }, name: 'job_sync_origin' }]);
    await this.heads.createIndexes([{ key: { jobId: 1 }, name: 'job' }]);
    await this.databases.createIndexes([{ key: { jobId: 1, syncId: 1 }, name: 'sync' }]);
  }

  async get(jobId: string, syncId: string): Promise<HeadRecord | undefined> {
    const doc = await this.heads.findOne({ _id: headId(jobId, syncId) });
    return doc ? this.withPosition(this.toRecord(doc), doc._id) : undefined;
  }

  /** The record with its applied position from its position document, when there is one. */
  private async withPosition(record: HeadRecord, id: string): Promise<HeadRecord> {
    const position = await this.positions.findOne({ _id: id });
    if (position === null) return record;
    checkRecordVersion(HEAD_POSITION_FORMAT, position, this.where(HEAD_POSITIONS, id));
    return { ...record, appliedTs: fromTs(position.appliedTs) };
  }

  /**
   * One document per recorded database, created by insert: inserts of one `_id` are exclusive even where
   * conditional updates are not (FerretDB, docs/stand-in.md), so concurrent recorders never lose one.
   */
  async recordDatabase(jobId: string, syncId: string, headDb: string): Promise<void> {
    const _id = `${headId(jobId, syncId)}/${headDb}`;
    try {
      await this.databases.insertOne({ _id, v: HEAD_DATABASE_FORMAT.current, jobId, syncId, db: headDb });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      await this.check(this.databases, HEAD_DATABASE_FORMAT, HEAD_DATABASES, _id);
    }
  }

  async recordedDatabases(jobId: string, syncId: string): Promise<string[] | undefined> {
    const head = await this.get(jobId, syncId);
    if (head?.recordsDatabases !== true) return undefined;
    const out: string[] = [];
    for await (const doc of this.databases.find({ jobId, syncId })) {
      checkRecordVersion(HEAD_DATABASE_FORMAT, doc, this.where(HEAD_DATABASES, doc._id));
      out.push(doc.db);
    }
    return out.sort();
  }

  async listForJob(jobId: string): Promise<HeadRecord[]> {
    const out: HeadRecord[] = [];
    for await (const doc of this.heads.find({ jobId }))
      out.push(await this.withPosition(this.toRecord(doc), doc._id));
    return out;
  }

  async recordScanCatalog(
    jobId: string,
    syncId: string,
    syncNo: number,
    catalog: HeadCatalog,
  ): Promise<void> {
    const scan: TsCatalog = { ...catalog, startTs: toTs(catalog.startTs), endTs: toTs(catalog.endTs) };
    const id = headId(jobId, syncId);
    await this.upsertHead(id, { jobId, syncId, syncNo, scan });
    // The position starts at the transfer's start, once: a repeated catalog (a redelivered slice) leaves it.
    const legacy = (await this.heads.findOne({ _id: id }, { projection: { appliedTs: 1 } }))?.appliedTs;
    try {
      await this.positions.insertOne({
        _id: id,
        v: HEAD_POSITION_FORMAT.current,
        jobId,
        syncId,
        appliedTs: legacy ?? toTs(catalog.startTs),
        appliedAt: new Date(),
      });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
    }
  }

  async recordMissingCatalog(
    jobId: string,
    syncId: string,
    namespaces: NonNullable<HeadRecord['missing']>['namespaces'],
  ): Promise<void> {
    await this.upsertHead(headId(jobId, syncId), { jobId, syncId, missing: { namespaces } });
  }

  async markBuilt(
    sliceId: string,
    info: { jobId: string; syncId: string; origin: SliceOrigin; ns: string },
  ): Promise<void> {
    const doc: Omit<BuiltDoc, '_id'> = { v: BUILT_SLICE_FORMAT.current, ...info, at: new Date() };
    try {
      await this.built.replaceOne({ _id: sliceId, ...(BUILT_VERSIONS.readable as Filter<BuiltDoc>) }, doc, {
        upsert: true,
      });
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) await this.checkBuilt(sliceId);
      throw err;
    }
  }

  async isBuilt(sliceId: string): Promise<boolean> {
    const doc = await this.built.findOne({ _id: sliceId }, { projection: { v: 1 } });
    if (doc) checkRecordVersion(BUILT_SLICE_FORMAT, doc, this.where(BUILT_SLICES, sliceId));
    return doc !== null;
  }

  async countBuilt(jobId: string, syncId: string, origin: SliceOrigin): Promise<number> {
    // A count reads no document, so look for one this build cannot read first.
    const unreadable = await this.built.findOne(
      { jobId, syncId, origin, ...(BUILT_VERSIONS.unreadable as Filter<BuiltDoc>) },
      { projection: { v: 1 } },
    );
    if (unreadable)
      checkRecordVersion(BUILT_SLICE_FORMAT, unreadable, this.where(BUILT_SLICES, unreadable._id));
    return this.built.countDocuments({ jobId, syncId, origin });
  }

  async mark(jobId: string, syncId: string, mark: HeadMark): Promise<boolean> {
    const res = await this.heads.updateOne(
      { _id: headId(jobId, syncId), $and: [HEAD_VERSIONS.readable, { [mark]: { $exists: false } }] },
      { $set: { [mark]: new Date() } },
    );
    if (res.modifiedCount === 1) return true;
    await this.checkHead(headId(jobId, syncId));
    return false;
  }

  /**
   * Moves the applied position forward to `ts` (never back) and returns the stored one. The update is read back and
   * repeated while the stored position is behind `ts`: a server whose updates of one document are not atomic
   * (FerretDB 1.24 rewrites the whole document) can let a concurrent `$set` of another field (a mark, the missing
   * catalog) write the previous position back. If it is still behind after the attempts, the failure is retriable:
   * the next turn starts from the stored position again (applying is idempotent).
   */
  async setAppliedTs(jobId: string, syncId: string, ts: OpTime): Promise<OpTime> {
    const id = headId(jobId, syncId);
    let stored: OpTime | undefined;
    for (let attempt = 1; attempt <= SET_APPLIED_ATTEMPTS; attempt++) {
      if ((await this.positions.findOne({ _id: id }, { projection: { _id: 1 } })) === null) {
        // A head recorded before positions had documents of their own: start from its record's position.
        const head = await this.get(jobId, syncId);
        if (head === undefined) throw new Error(`head ${id} does not exist`);
        try {
          await this.positions.insertOne({
            _id: id,
            v: HEAD_POSITION_FORMAT.current,
            jobId,
            syncId,
            appliedTs: toTs(head.appliedTs ?? ts),
            appliedAt: new Date(),
          });
        } catch (err) {
          if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
        }
      }
      await this.positions.updateOne(
        { _id: id, v: HEAD_POSITION_FORMAT.current, appliedTs: { $lt: toTs(ts) } },
        { $set: { appliedTs: toTs(ts), appliedAt: new Date() } },
      );
      const doc = await this.positions.findOne({ _id: id });
      if (doc === null) throw new Error(`head ${id} has no applied position after setting it`);
      checkRecordVersion(HEAD_POSITION_FORMAT, doc, this.where(HEAD_POSITIONS, id));
      stored = fromTs(doc.appliedTs);
      if (compareOpTime(stored, ts) >= 0) return stored;
    }
    throw new TidemarkError(
      `head ${id}: the applied position stayed at ${formatOpTime(stored!)} after ${SET_APPLIED_ATTEMPTS} updates ` +
        `to ${formatOpTime(ts)} (a concurrent write to the head record?)`,
      { retriable: true },
    );
  }

  async remove(jobId: string, syncId: string): Promise<void> {
    await this.built.deleteMany({ jobId, syncId });
    await this.databases.deleteMany({ jobId, syncId });
    await this.positions.deleteOne({ _id: headId(jobId, syncId) });
    await this.heads.deleteOne({ _id: headId(jobId, syncId) });
  }

  /**
   * `$set`s `fields` on the head record, creating it (at the current version) if absent. A record of a version this
   * build does not read is left as it is: the filter does not match it, the insert collides with its `_id`, and
   * reading it throws `UnknownFormatVersionError`.
   */
  private async upsertHead(id: string, fields: Partial<HeadDoc>): Promise<void> {
    try {
      await this.heads.updateOne(
        { _id: id, ...(HEAD_VERSIONS.readable as Filter<HeadDoc>) },
        // Records created from now on record their databases (`recordDatabase`) from the start.
        { $set: fields, $setOnInsert: { v: HEAD_RECORD_FORMAT.current, recordsDatabases: true } },
        { upsert: true },
      );
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) await this.checkHead(id);
      throw err;
    }
  }

  /** Reads the version of a head record, if there is one; throws for a version this build does not read. */
  private async checkHead(id: string): Promise<void> {
    await this.check(this.heads, HEAD_RECORD_FORMAT, HEADS, id);
  }

  private async checkBuilt(id: string): Promise<void> {
    await this.check(this.built, BUILT_SLICE_FORMAT, BUILT_SLICES, id);
  }

  private async check<T extends { _id: string; v?: number }>(
    coll: Collection<T>,
    format: RecordFormat,
    name: string,
    id: string,
  ): Promise<void> {
    const doc = await coll.findOne({ _id: id } as Filter<T>, { projection: { v: 1 } });
    if (doc) checkRecordVersion(format, doc, this.where(name, id));
  }

  private where(collection: string, id: string): string {
    return documentLocation(this.dbName, collection, id);
  }

  /** A reader's first step is the version check; only then are the fields interpreted. */
  private toRecord(doc: HeadDoc): HeadRecord {
    checkRecordVersion(HEAD_RECORD_FORMAT, doc, this.where(HEADS, doc._id));
    return toRecord(doc);
  }
}

function toRecord(doc: HeadDoc): HeadRecord {
  const { _id: _ignored, v: _version, appliedTs, scan, ...rest } = doc;
  const rec: HeadRecord = { ...rest };
  if (appliedTs) rec.appliedTs = fromTs(appliedTs);
  if (scan) rec.scan = { ...scan, startTs: fromTs(scan.startTs), endTs: fromTs(scan.endTs) };
  return rec;
}
