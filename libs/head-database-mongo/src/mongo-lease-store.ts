/**
 * `MongoLeaseStore`: the per-job apply leases of `@tidemark/head-database` (its `LeaseStore` port) in the `leases`
 * collection of the meta database: `{ _id: "apply:<jobId>", v: 1, owner, expiresAt: Date, renewedAt: Date }`.
 *
 * `acquire` is one `findOneAndUpdate` upsert on `{ _id, $or: [{ expiresAt < now }, { owner: me }] }`: when another
 * owner holds an unexpired lease the filter matches nothing and the upsert's insert collides on `_id` (duplicate
 * key), which means "held". Times are the owner's clock; owners' clocks must agree to well within the TTL.
 *
 * Format version `LEASE_FORMAT` (docs/format.md, "Stored records"): a lease of a version this build does not read
 * is never taken over, renewed or released; the call that meets it throws `UnknownFormatVersionError`.
 */
import { MongoServerError, type Collection, type Filter, type MongoClient } from 'mongodb';
import { checkRecordVersion, documentLocation, recordFormat, versionFilters } from '@tidemark/domain';
import type { LeaseGrant, LeaseStore } from '@tidemark/head-database';

export const LEASES_COLLECTION = 'leases';
/** Format of a `leases` document; a document without `v` (written before versions) is version 1. */
export const LEASE_FORMAT = recordFormat('apply lease', 1);
const READABLE = versionFilters(LEASE_FORMAT).readable as Filter<LeaseDoc>;
const DUPLICATE_KEY = 11000;

interface LeaseDoc {
  _id: string;
  v?: number;
  owner: string;
  expiresAt: Date;
  renewedAt: Date;
}

export class MongoLeaseStore implements LeaseStore {
  private readonly leases: Collection<LeaseDoc>;

  constructor(
    client: MongoClient,
    private readonly metaDb: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.leases = client.db(metaDb).collection<LeaseDoc>(LEASES_COLLECTION);
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const now = new Date(this.clock());
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      const doc = await this.leases.findOneAndUpdate(
        { _id: name, $and: [READABLE, { $or: [{ expiresAt: { $lt: now } }, { owner }] }] },
        { $set: { owner, expiresAt, renewedAt: now }, $setOnInsert: { v: LEASE_FORMAT.current } },
        { upsert: true, returnDocument: 'after' },
      );
      if (doc) checkRecordVersion(LEASE_FORMAT, doc, this.where(name));
      return doc?.owner === owner ? { name, owner, expiresAt } : undefined;
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      await this.check(name); // held by another owner, unless it is a lease of an unknown version
      return undefined;
    }
  }

  async renew(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const now = new Date(this.clock());
    const expiresAt = new Date(now.getTime() + ttlMs);
    const result = await this.leases.updateOne(
      { _id: name, owner, ...READABLE },
      { $set: { expiresAt, renewedAt: now } },
    );
    if (result.matchedCount === 1) return { name, owner, expiresAt };
    await this.check(name);
    return undefined;
  }

  async release(name: string, owner: string): Promise<void> {
    const result = await this.leases.deleteOne({ _id: name, owner, ...READABLE });
    if (result.deletedCount === 0) await this.check(name);
  }

  /** Throws `UnknownFormatVersionError` when the lease `name` exists with a version this build does not read. */
  private async check(name: string): Promise<void> {
    const doc = await this.leases.findOne({ _id: name }, { projection: { v: 1 } });
    if (doc) checkRecordVersion(LEASE_FORMAT, doc, this.where(name));
  }

  private where(name: string): string {
    return documentLocation(this.metaDb, LEASES_COLLECTION, name);
  }
}
