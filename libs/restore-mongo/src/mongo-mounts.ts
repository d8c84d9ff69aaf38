/** `MountRegistry` and `ScratchAdmin` of `@tidemark/restore` on the backup-side MongoDB. */
import { MongoServerError, type Collection, type MongoClient } from 'mongodb';
import type { MountRecord, MountRegistry, ScratchAdmin } from '@tidemark/restore';

interface MountDoc {
  _id: string;
  v: 1;
  jobId: string;
  snapshotId: string;
  databases: Record<string, string>;
  user?: string;
  createdAt: Date;
  expiresAt: Date;
}

export class MongoMountRegistry implements MountRegistry {
  private readonly mounts: Collection<MountDoc>;

  constructor(client: MongoClient, metaDb: string) {
    this.mounts = client.db(metaDb).collection<MountDoc>('mounts');
  }

  async put(r: MountRecord): Promise<void> {
    const doc: MountDoc = {
      _id: r.mountId,
      v: 1,
      jobId: r.jobId,
      snapshotId: r.snapshotId,
      databases: { ...r.databases },
      ...(r.user === undefined ? {} : { user: r.user }),
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
    };
    await this.mounts.replaceOne({ _id: r.mountId }, doc, { upsert: true });
  }

  async get(mountId: string): Promise<MountRecord | undefined> {
    const doc = await this.mounts.findOne({ _id: mountId });
    return doc === null ? undefined : fromDoc(doc);
  }

  async list(): Promise<MountRecord[]> {
    return (await this.mounts.find({}).toArray()).map(fromDoc);
  }

  async delete(mountId: string): Promise<void> {
    await this.mounts.deleteOne({ _id: mountId });
  }
}

function fromDoc(d: MountDoc): MountRecord {
  return {
    mountId: d._id,
    jobId: d.jobId,
    snapshotId: d.snapshotId,
    databases: { ...d.databases },
    ...(d.user === undefined ? {} : { user: d.user }),
    createdAt: d.createdAt,
    expiresAt: d.expiresAt,
  };
}

export class MongoScratchAdmin implements ScratchAdmin {
  constructor(private readonly client: MongoClient) {}

  async dropDatabase(db: string): Promise<void> {
    await this.client.db(db).dropDatabase();
  }

  async createReadUser(
    user: string,
    password: string,
    databases: readonly string[],
  ): Promise<string | undefined> {
    try {
      await this.client.db('admin').command({
        createUser: user,
        pwd: password,
        roles: databases.map((db) => ({ role: 'read', db })),
      });
      return undefined;
    } catch (err) {
      if (err instanceof MongoServerError) return err.message;
      throw err;
    }
  }

  async dropUser(user: string): Promise<void> {
    try {
      await this.client.db('admin').command({ dropUser: user });
    } catch (err) {
      // UserNotFound; CommandNotFound: a server without user management has no user to drop.
      if (err instanceof MongoServerError && (err.code === 11 || err.code === 59)) return;
      throw err;
    }
  }
}
