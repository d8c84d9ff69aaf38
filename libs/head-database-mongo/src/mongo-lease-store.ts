/**
 * `MongoLeaseStore`: the per-job apply leases of `@tidemark/head-database` (its `LeaseStore` port) in the `leases`
 * collection of the meta database: `{ _id: "apply:<jobId>", owner, expiresAt: Date, renewedAt: Date }`.
 *
 * `acquire` is one `findOneAndUpdate` upsert on `{ _id, $or: [{ expiresAt < now }, { owner: me }] }`: when another
 * owner holds an unexpired lease the filter matches nothing and the upsert's insert collides on `_id` (duplicate
 * key), which means "held". Times are the owner's clock; owners' clocks must agree to well within the TTL.
 */
import { MongoServerError, type Collection, type MongoClient } from 'mongodb';
import type { LeaseGrant, LeaseStore } from '@tidemark/head-database';

export const LEASES_COLLECTION = 'leases';
const DUPLICATE_KEY = 11000;

interface LeaseDoc {
  _id: string;
  owner: string;
  expiresAt: Date;
  renewedAt: Date;
}

export class MongoLeaseStore implements LeaseStore {
  private readonly leases: Collection<LeaseDoc>;

  constructor(
    client: MongoClient,
    metaDb: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.leases = client.db(metaDb).collection<LeaseDoc>(LEASES_COLLECTION);
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const now = new Date(this.clock());
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      const doc = await this.leases.findOneAndUpdate(
        { _id: name, $or: [{ expiresAt: { $lt: now } }, { owner }] },
        { $set: { owner, expiresAt, renewedAt: now } },
        { upsert: true, returnDocument: 'after' },
      );
      return doc?.owner === owner ? { name, owner, expiresAt } : undefined;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return undefined;
      throw err;
    }
  }

  async renew(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const now = new Date(this.clock());
    const expiresAt = new Date(now.getTime() + ttlMs);
    const result = await this.leases.updateOne({ _id: name, owner }, { $set: { expiresAt, renewedAt: now } });
    return result.matchedCount === 1 ? { name, owner, expiresAt } : undefined;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.leases.deleteOne({ _id: name, owner });
  }
}
