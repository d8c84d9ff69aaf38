/**
 * Queryable snapshots: a snapshot restored into scratch databases on the backup side (`tm_mount_<mountId>_<db>`), kept
 * until its expiry or an unmount, then dropped. The record is written before anything is restored, so a mount that
 * dies half-way is still found and dropped when it expires (`reapMounts`, run by the snapshotter every round).
 */
import { TidemarkError } from '@tidemark/domain';

export interface MountRecord {
  readonly mountId: string;
  readonly jobId: string;
  readonly snapshotId: string;
  /** The scratch databases, by source database. */
  readonly databases: Readonly<Record<string, string>>;
  /** The read-only user created for it, when the server has user management. */
  readonly user?: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Where mounts are recorded (`mounts` in the meta database). */
export interface MountRegistry {
  put(record: MountRecord): Promise<void>;
  get(mountId: string): Promise<MountRecord | undefined>;
  list(): Promise<MountRecord[]>;
  delete(mountId: string): Promise<void>;
}

/** The backup-side server's part: dropping a scratch database, a read-only user. */
export interface ScratchAdmin {
  dropDatabase(db: string): Promise<void>;
  /** Creates `user` with read access to `databases` only; resolves the server's refusal as text (no user management). */
  createReadUser(user: string, password: string, databases: readonly string[]): Promise<string | undefined>;
  /** Drops `user`; one that does not exist is not an error. */
  dropUser(user: string): Promise<void>;
}

export const MOUNT_PREFIX = 'tm_mount_';
const MOUNT_ID = /^[a-z0-9]{6,16}$/;

/** The scratch database a source database is mounted as. MongoDB database names are at most 63 bytes. */
export function mountDatabaseName(mountId: string, db: string): string {
  if (!MOUNT_ID.test(mountId)) throw new TidemarkError(`not a mount id: ${mountId}`, { retriable: false });
  const name = `${MOUNT_PREFIX}${mountId}_${db}`;
  if (Buffer.byteLength(name) > 63) {
    throw new TidemarkError(`database ${db} is too long to mount (${name} is over 63 bytes)`, {
      retriable: false,
    });
  }
  return name;
}

/** Drops a mount's databases and user, then its record. Idempotent. */
export async function unmount(
  registry: MountRegistry,
  admin: ScratchAdmin,
  mountId: string,
): Promise<boolean> {
  const record = await registry.get(mountId);
  if (record === undefined) return false;
  for (const db of Object.values(record.databases)) await admin.dropDatabase(db);
  if (record.user !== undefined) await admin.dropUser(record.user);
  await registry.delete(mountId);
  return true;
}

/** Unmounts every mount whose expiry has passed; returns their ids. */
export async function reapMounts(registry: MountRegistry, admin: ScratchAdmin, now: Date): Promise<string[]> {
  const reaped: string[] = [];
  for (const record of await registry.list()) {
    if (record.expiresAt.getTime() > now.getTime()) continue;
    if (await unmount(registry, admin, record.mountId)) reaped.push(record.mountId);
  }
  return reaped;
}
