/**
 * `tidemark snapshot mount|unmount|mounts`: queryable snapshots (`mount.ts` of `@tidemark/restore`). A mount restores
 * the snapshot into scratch databases on the backup side, through the same path as `tidemark restore`, records it
 * first (so one that dies half-way is reaped at its expiry by the snapshotter), and prints a connection string with a
 * user that can only read those databases, when the server has user management (FerretDB has none: then it says so
 * and prints the plain string).
 */
import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { connectMongo } from '@tidemark/mongo';
import { mountDatabaseName, unmount, type MountRecord } from '@tidemark/restore';
import { MongoMountRegistry, MongoScratchAdmin } from '@tidemark/restore-mongo';
import type { JobApiClient } from './job-api-client';
import { completeSnapshot, deploymentTarget, openBackupSide, runRestore } from './restore-runner';

const metaDb = (env: NodeJS.ProcessEnv = process.env) => env['TIDEMARK_META_DB'] || 'tidemark_meta';

export interface MountOutcome {
  readonly mount: MountRecord;
  readonly uri: string;
  readonly readOnly: boolean;
  /** Why the connection string is not read-only. */
  readonly warning?: string;
  readonly documents: number;
}

/** The backup URI with a user and password, authenticating against `admin`. */
function withUser(uri: string, user: string, password: string): string {
  const url = new URL(uri);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.searchParams.set('authSource', 'admin');
  return url.toString();
}

export async function mountSnapshot(
  api: JobApiClient,
  snapshotId: string,
  ttlMinutes: number,
): Promise<MountOutcome> {
  const job = await api.get((await api.getSnapshot(snapshotId)).jobId);
  const side = await openBackupSide(job);
  try {
    const manifest = await completeSnapshot(side, job.id, snapshotId);
    const mountId = randomBytes(5).toString('hex');
    const sourceDbs = [
      ...new Set(manifest.namespaces.map((n) => n.namespace.slice(0, n.namespace.indexOf('.')))),
    ];
    const databases = Object.fromEntries(sourceDbs.map((db) => [db, mountDatabaseName(mountId, db)]));
    const now = new Date();
    const registry = new MongoMountRegistry(side.backup, metaDb());
    const admin = new MongoScratchAdmin(side.backup);
    const record: MountRecord = {
      mountId,
      jobId: job.id,
      snapshotId,
      databases,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlMinutes * 60_000),
    };
    await registry.put(record); // before anything is written: a mount that dies half-way still expires
    try {
      const outcome = await runRestore(side, {
        job,
        snapshotId,
        target: deploymentTarget(side.backup),
        selection: {
          include: [],
          exclude: [],
          renames: Object.entries(databases).map(([from, to]) => ({ from, to })),
        },
        drop: false,
      });
      const user = `tm_mount_${mountId}`;
      const password = randomBytes(18).toString('base64url');
      const refused = await admin.createReadUser(user, password, Object.values(databases));
      const base = resolveEndpoints().backup.uri;
      if (refused === undefined) {
        const mounted = { ...record, user };
        await registry.put(mounted);
        return {
          mount: mounted,
          uri: withUser(base, user, password),
          readOnly: true,
          documents: outcome.documents,
        };
      }
      return {
        mount: record,
        uri: base,
        readOnly: false,
        warning: `the backup-side server refused a read-only user (${refused}): this connection string can write; do not`,
        documents: outcome.documents,
      };
    } catch (err) {
      await unmount(registry, admin, mountId).catch(() => undefined);
      throw err;
    }
  } finally {
    await side.close();
  }
}

/** Runs `work` with a client of the backup side (the mounts' registry and scratch databases). */
async function onBackupSide<T>(work: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await connectMongo(resolveEndpoints().backup.uri, { appName: 'tidemark-cli' });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

export function unmountSnapshot(mountId: string): Promise<boolean> {
  return onBackupSide((client) =>
    unmount(new MongoMountRegistry(client, metaDb()), new MongoScratchAdmin(client), mountId),
  );
}

export function listMounts(): Promise<MountRecord[]> {
  return onBackupSide((client) => new MongoMountRegistry(client, metaDb()).list());
}
