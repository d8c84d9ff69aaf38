/**
 * The `AccessStore` port: projects and API keys, as job-state keeps them (`MongoAccessStore` of
 * `@tidemark/access-mongo`; `MemoryAccessStore` here). Contract (`access-store.contract.ts` runs it against both):
 * - inserts are create-only: `false` when the name or id exists, nothing changed;
 * - reads of an unknown name or id give `undefined`; lists are ordered (projects by name, keys by creation, then id);
 * - `revokeKey` sets `revokedAt` once (a second revoke keeps the first time) and answers whether the key exists;
 * - `deleteProject` removes the project and drops its grant from every key, in that order; `false` when unknown;
 * - `touchKey` sets `lastUsedAt` of an existing key (a missing key is no error).
 * Records are copied in and out; a caller never changes a stored record by accident.
 */
import type { Grants } from './grants';

export interface ProjectRecord {
  readonly name: string;
  readonly createdAt: Date;
}

export interface ApiKeyRecord {
  readonly id: string;
  /** Hex scrypt salt and hash of the key's secret (`api-key.ts`). */
  readonly salt: string;
  readonly hash: string;
  readonly grants: Grants;
  readonly createdAt: Date;
  /** Who created it: a key id, or `admin`. */
  readonly createdBy: string;
  readonly lastUsedAt: Date | undefined;
  readonly revokedAt: Date | undefined;
}

/** Most keys {@link AccessStore.listKeys} returns. */
export const MAX_KEYS = 10_000;

export interface AccessStore {
  insertProject(project: ProjectRecord): Promise<boolean>;
  getProject(name: string): Promise<ProjectRecord | undefined>;
  /** Every project, or those of `names`; ordered by name. */
  listProjects(names?: readonly string[]): Promise<ProjectRecord[]>;
  deleteProject(name: string): Promise<boolean>;
  insertKey(key: ApiKeyRecord): Promise<boolean>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** At most {@link MAX_KEYS}, oldest first. */
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(id: string, at: Date): Promise<boolean>;
  touchKey(id: string, at: Date): Promise<void>;
}
