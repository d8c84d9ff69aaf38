/**
 * `MongoAccessStore`: the `AccessStore` port of `@tidemark/access` in job-state's meta database (`TIDEMARK_META_DB`),
 * beside the jobs: `<meta>.projects` (`_id` = project name) and `<meta>.api_keys` (`_id` = the key's public id; the
 * secret's scrypt salt and hash, never the key; grants as a list of `{ project, role }`, since project names may
 * hold dots, which field names must not). `v` is the format version, checked before anything else is read. Writes
 * are majority-acknowledged; inserts are create-only on `_id`.
 */
import type { Collection, Filter, MongoClient } from 'mongodb';
import {
  isRole,
  MAX_KEYS,
  type AccessStore,
  type ApiKeyRecord,
  type Grants,
  type ProjectRecord,
  type Role,
} from '@tidemark/access';
import { checkRecordVersion, documentLocation, recordFormat, TidemarkError } from '@tidemark/domain';

export const PROJECTS_COLLECTION = 'projects';
export const API_KEYS_COLLECTION = 'api_keys';
export const PROJECT_FORMAT = recordFormat('project', 1);
export const API_KEY_FORMAT = recordFormat('API key', 1);
const MAJORITY = { writeConcern: { w: 'majority' as const } };
const DUPLICATE_KEY = 11000;

/** Classifies a driver failure (`classifyMongoError` of `@tidemark/mongo`, injected by the app). */
export type StoreErrorClassifier = (err: unknown) => { readonly retriable: boolean; readonly reason: string };

interface ProjectDocument {
  _id: string;
  v?: number;
  createdAt: Date;
}

interface ApiKeyDocument {
  _id: string;
  v?: number;
  salt: string;
  hash: string;
  grants: { project: string; role: string }[];
  createdAt: Date;
  createdBy: string;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export class MongoAccessStore implements AccessStore {
  private readonly projects: Collection<ProjectDocument>;
  private readonly keys: Collection<ApiKeyDocument>;

  constructor(
    client: MongoClient,
    private readonly dbName: string,
    private readonly classify: StoreErrorClassifier,
  ) {
    this.projects = client.db(dbName).collection<ProjectDocument>(PROJECTS_COLLECTION);
    this.keys = client.db(dbName).collection<ApiKeyDocument>(API_KEYS_COLLECTION);
  }

  async init(): Promise<void> {
    await this.guard('create the API key indexes', async () => {
      await this.keys.createIndex({ createdAt: 1, _id: 1 }, { name: 'oldest' });
      await this.keys.createIndex({ 'grants.project': 1 }, { name: 'grant-project' });
    });
  }

  async insertProject(project: ProjectRecord): Promise<boolean> {
    return this.insert(`create project ${project.name}`, () =>
      this.projects.insertOne(
        { _id: project.name, v: PROJECT_FORMAT.current, createdAt: project.createdAt },
        MAJORITY,
      ),
    );
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const doc = await this.guard(`read project ${name}`, () => this.projects.findOne({ _id: name }));
    return doc === null ? undefined : this.projectOf(doc);
  }

  async listProjects(names?: readonly string[]): Promise<ProjectRecord[]> {
    const filter: Filter<ProjectDocument> = names === undefined ? {} : { _id: { $in: [...names] } };
    const docs = await this.guard('list projects', () =>
      this.projects.find(filter).sort({ _id: 1 }).toArray(),
    );
    return docs.map((d) => this.projectOf(d));
  }

  async deleteProject(name: string): Promise<boolean> {
    return this.guard(`delete project ${name}`, async () => {
      const res = await this.projects.deleteOne({ _id: name }, MAJORITY);
      if (res.deletedCount !== 1) return false;
      // Key by key with $set rather than one updateMany with $pull: FerretDB 1.24 ignores a $pull by condition.
      const keys = await this.keys
        .find({}, { projection: { grants: 1 } })
        .limit(MAX_KEYS)
        .toArray();
      for (const k of keys) {
        if (!k.grants.some((g) => g.project === name)) continue;
        await this.keys.updateOne(
          { _id: k._id },
          { $set: { grants: k.grants.filter((g) => g.project !== name) } },
          MAJORITY,
        );
      }
      return true;
    });
  }

  async insertKey(key: ApiKeyRecord): Promise<boolean> {
    return this.insert(`create API key ${key.id}`, () =>
      this.keys.insertOne(
        {
          _id: key.id,
          v: API_KEY_FORMAT.current,
          salt: key.salt,
          hash: key.hash,
          grants: Object.entries(key.grants).map(([project, role]) => ({ project, role })),
          createdAt: key.createdAt,
          createdBy: key.createdBy,
          lastUsedAt: key.lastUsedAt ?? null,
          revokedAt: key.revokedAt ?? null,
        },
        MAJORITY,
      ),
    );
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const doc = await this.guard(`read API key ${id}`, () => this.keys.findOne({ _id: id }));
    return doc === null ? undefined : this.keyOf(doc);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const docs = await this.guard('list API keys', () =>
      this.keys.find({}).sort({ createdAt: 1, _id: 1 }).limit(MAX_KEYS).toArray(),
    );
    return docs.map((d) => this.keyOf(d));
  }

  async revokeKey(id: string, at: Date): Promise<boolean> {
    return this.guard(`revoke API key ${id}`, async () => {
      await this.keys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } }, MAJORITY);
      return (await this.keys.countDocuments({ _id: id }, { limit: 1 })) === 1;
    });
  }

  async touchKey(id: string, at: Date): Promise<void> {
    await this.guard(`record the use of API key ${id}`, () =>
      this.keys.updateOne({ _id: id }, { $set: { lastUsedAt: at } }),
    );
  }

  private projectOf(d: ProjectDocument): ProjectRecord {
    checkRecordVersion(PROJECT_FORMAT, d, documentLocation(this.dbName, PROJECTS_COLLECTION, d._id));
    return { name: d._id, createdAt: d.createdAt };
  }

  private keyOf(d: ApiKeyDocument): ApiKeyRecord {
    const where = documentLocation(this.dbName, API_KEYS_COLLECTION, d._id);
    checkRecordVersion(API_KEY_FORMAT, d, where);
    const grants: Record<string, Role> = {};
    for (const g of d.grants) {
      if (!isRole(g.role))
        throw new TidemarkError(`${where}: unknown role ${JSON.stringify(g.role)}`, { retriable: false });
      grants[g.project] = g.role;
    }
    return {
      id: d._id,
      salt: d.salt,
      hash: d.hash,
      grants: grants as Grants,
      createdAt: d.createdAt,
      createdBy: d.createdBy,
      lastUsedAt: d.lastUsedAt ?? undefined,
      revokedAt: d.revokedAt ?? undefined,
    };
  }

  private insert(what: string, op: () => Promise<unknown>): Promise<boolean> {
    return this.guard(what, async () => {
      try {
        await op();
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false;
        throw err;
      }
    });
  }

  private async guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof TidemarkError) throw err;
      const verdict = this.classify(err);
      throw new TidemarkError(`access store: ${what} failed: ${verdict.reason}`, {
        retriable: verdict.retriable,
        cause: err,
      });
    }
  }
}
