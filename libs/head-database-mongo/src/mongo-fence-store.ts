/**
 * `MongoFenceStore`: the fence requests of `@tidemark/head-database` (its `FenceStore` port) in the `fences`
 * collection of the meta database: `{ _id: <jobId>, v: 1, owner, expiresAt: Date, requestedAt: Date }`
 * (docs/format.md, "Snapshot fence").
 *
 * `request` is one `findOneAndUpdate` upsert on `{ _id, $or: [{ expiresAt < now }, { owner: me }] }`, as a lease's
 * `acquire`: when another owner's request stands the filter matches nothing and the upsert's insert collides on
 * `_id` (duplicate key), which means "refused". `current` reads the request and judges its expiry by this process's
 * clock; owners' clocks must agree to well within the TTL.
 *
 * Format version `FENCE_FORMAT` (docs/format.md, "Stored records"): a request of a version this build does not read
 * is never replaced, renewed or withdrawn; the call that meets it, `current` included, throws
 * `UnknownFormatVersionError` (the scheduler then counts it as no request and keeps its lease: safe).
 */
import { MongoServerError, type Collection, type Filter, type MongoClient } from 'mongodb';
import { checkRecordVersion, documentLocation, recordFormat, versionFilters } from '@tidemark/domain';
import type { FenceRequest, FenceStore } from '@tidemark/head-database';

export const FENCES_COLLECTION = 'fences';
/** Format of a `fences` document. */
export const FENCE_FORMAT = recordFormat('snapshot fence', 1);
const READABLE = versionFilters(FENCE_FORMAT).readable as Filter<FenceDoc>;
const DUPLICATE_KEY = 11000;

interface FenceDoc {
  _id: string;
  v?: number;
  owner: string;
  expiresAt: Date;
  requestedAt: Date;
}

export class MongoFenceStore implements FenceStore {
  private readonly fences: Collection<FenceDoc>;

  constructor(
    client: MongoClient,
    private readonly metaDb: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.fences = client.db(metaDb).collection<FenceDoc>(FENCES_COLLECTION);
  }

  async request(jobId: string, owner: string, ttlMs: number): Promise<FenceRequest | undefined> {
    const now = new Date(this.clock());
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      const doc = await this.fences.findOneAndUpdate(
        { _id: jobId, $and: [READABLE, { $or: [{ expiresAt: { $lt: now } }, { owner }] }] },
        { $set: { owner, expiresAt, requestedAt: now }, $setOnInsert: { v: FENCE_FORMAT.current } },
        { upsert: true, returnDocument: 'after' },
      );
      if (doc) checkRecordVersion(FENCE_FORMAT, doc, this.where(jobId));
      return doc?.owner === owner ? { jobId, owner, expiresAt } : undefined;
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      await this.check(jobId); // another owner's request stands, unless it is of an unknown version
      return undefined;
    }
  }

  async renew(jobId: string, owner: string, ttlMs: number): Promise<FenceRequest | undefined> {
    const expiresAt = new Date(this.clock() + ttlMs);
    const result = await this.fences.updateOne({ _id: jobId, owner, ...READABLE }, { $set: { expiresAt } });
    if (result.matchedCount === 1) return { jobId, owner, expiresAt };
    await this.check(jobId);
    return undefined;
  }

  async withdraw(jobId: string, owner: string): Promise<void> {
    const result = await this.fences.deleteOne({ _id: jobId, owner, ...READABLE });
    if (result.deletedCount === 0) await this.check(jobId);
  }

  async current(jobId: string): Promise<FenceRequest | undefined> {
    const doc = await this.fences.findOne({ _id: jobId });
    if (doc === null) return undefined;
    checkRecordVersion(FENCE_FORMAT, doc, this.where(jobId));
    if (doc.expiresAt.getTime() < this.clock()) return undefined;
    return { jobId, owner: doc.owner, expiresAt: doc.expiresAt };
  }

  /** Throws `UnknownFormatVersionError` when the request of `jobId` exists with a version this build does not read. */
  private async check(jobId: string): Promise<void> {
    const doc = await this.fences.findOne({ _id: jobId }, { projection: { v: 1 } });
    if (doc) checkRecordVersion(FENCE_FORMAT, doc, this.where(jobId));
  }

  private where(jobId: string): string {
    return documentLocation(this.metaDb, FENCES_COLLECTION, jobId);
  }
}
