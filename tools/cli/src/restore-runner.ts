/**
 * Running a restore from the CLI: the composition of `@tidemark/restore` with the real stores. The snapshot's job
 * (and so its snapshot store, filesystem root and encryption key file) comes from job-state's API; the snapshot store
 * and the oplog store are opened on the backup side as the snapshotter and the oplog-applier open them (the same
 * environment: `BACKUP_MONGODB_URI`, `S3_*`, `TIDEMARK_SNAPSHOT_DB`, `TIDEMARK_SNAPSHOT_S3_PREFIX`,
 * `TIDEMARK_OPLOG_STORE_DB`); the target is written through `MongoHeadWriter`, and a point-in-time restore replays
 * through `OplogApplier` over `MongoApplyTarget`, the code that keeps the head database.
 */
import type { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import {
  DEFAULT_SLICE_LIMITS,
  TidemarkError,
  formatOpTime,
  restorableWindow,
  storedPosition,
  type RestorableWindow,
  type StoredOplogRange,
} from '@tidemark/domain';
import { openSliceEntries } from '@tidemark/head-database';
import { MongoApplyTarget, MongoHeadWriter } from '@tidemark/head-database-mongo';
import { classifyMongoError, connectMongo } from '@tidemark/mongo';
import { OplogApplier } from '@tidemark/oplog-apply';
import { DEFAULT_OPLOG_STORE_DB, MongoOplogStore } from '@tidemark/oplog-store';
import {
  DeploymentTarget,
  restorePointInTime,
  restoreSnapshot,
  storedOplogEntries,
  type RestorePoint,
  type RestoreProgress,
  type RestoreSelection,
  type RestoreSnapshot,
  type RestoreTarget,
} from '@tidemark/restore';
import { MongoNamespaceAdmin } from '@tidemark/restore-mongo';
import { classifyS3Error, createS3Client } from '@tidemark/s3';
import { createSnapshotStore } from '@tidemark/snapshot-stores';
import { decodeSlicePayload } from '@tidemark/slices';
import {
  loadEncryptionKey,
  readNamespace,
  type EncryptionKey,
  type SnapshotManifest,
  type SnapshotStore,
} from '@tidemark/snapshots';
import type { JobView } from '@tidemark/jobs';

/** The target deployment is the job's own source, and `--to-source` was not given. Nothing was written. */
export class RestoreToSourceError extends TidemarkError {
  override readonly name: string = 'RestoreToSourceError';
  constructor(jobId: string, host: string) {
    super(
      `the target shares host ${host} with job ${jobId}'s source; restoring there overwrites the data being backed ` +
        'up. Pass --to-source to do it on purpose. Nothing was written',
      { retriable: false },
    );
  }
}

/** The hosts of a `mongodb://` URI (`mongodb+srv://` names its SRV host). */
export function uriHosts(uri: string): string[] {
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(uri.trim());
  if (match === null) return [];
  return match[1]!
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .map((h) => (h.includes(':') || uri.startsWith('mongodb+srv') ? h : `${h}:27017`))
    .map((h) => h.replace(/^localhost:/, '127.0.0.1:'));
}

/** Throws {@link RestoreToSourceError} when the target and the job's source share a host. */
export function refuseSource(job: JobView, targetUri: string, toSource: boolean): void {
  if (toSource) return;
  const source = new Set(uriHosts(job.source.uri));
  const shared = uriHosts(targetUri).find((h) => source.has(h));
  if (shared !== undefined) throw new RestoreToSourceError(job.id, shared);
}

export interface BackupSide {
  readonly backup: MongoClient;
  readonly store: SnapshotStore;
  readonly key: EncryptionKey | undefined;
  readonly oplog: MongoOplogStore;
  close(): Promise<void>;
}

/** Opens the job's snapshot store and the oplog store, as the snapshotter and the oplog-applier do. */
export async function openBackupSide(
  job: JobView,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BackupSide> {
  const endpoints = resolveEndpoints(env);
  const backup = await connectMongo(endpoints.backup.uri, { appName: 'tidemark-restore' });
  const s3 = createS3Client(endpoints.s3, { maxAttempts: 1 });
  try {
    const spec = job.snapshotStore;
    const store = await createSnapshotStore(spec.kind, {
      mongo: {
        client: backup,
        database: env['TIDEMARK_SNAPSHOT_DB'] || 'tidemark_snapshots',
        classifyError: classifyMongoError,
      },
      s3: {
        client: s3,
        bucket: endpoints.s3.bucket,
        prefix: env['TIDEMARK_SNAPSHOT_S3_PREFIX'] || 'snapshots',
        classifyError: classifyS3Error,
      },
      ...(spec.path === undefined ? {} : { filesystem: { root: spec.path } }),
    });
    const key =
      spec.encryptionKeyFile === undefined
        ? undefined
        : await loadEncryptionKey({ file: spec.encryptionKeyFile });
    const oplog = new MongoOplogStore(backup, env['TIDEMARK_OPLOG_STORE_DB'] || DEFAULT_OPLOG_STORE_DB);
    return {
      backup,
      store,
      key,
      oplog,
      close: async () => {
        s3.destroy();
        await backup.close();
      },
    };
  } catch (err) {
    s3.destroy();
    await backup.close();
    throw err;
  }
}

/** The job's complete snapshots, as their manifests. */
export async function completeSnapshots(side: BackupSide, jobId: string): Promise<SnapshotManifest[]> {
  return (await side.store.listSnapshots(jobId)).filter((r) => r.state === 'complete').map((r) => r.manifest);
}

/** One complete snapshot's manifest; throws naming why it cannot be restored. */
export async function completeSnapshot(
  side: BackupSide,
  jobId: string,
  snapshotId: string,
): Promise<SnapshotManifest> {
  const record = await side.store.getSnapshot(jobId, snapshotId);
  if (record === undefined) {
    throw new TidemarkError(`snapshot ${snapshotId} is not in job ${jobId}'s snapshot store`, {
      retriable: false,
    });
  }
  if (record.state !== 'complete') {
    throw new TidemarkError(
      `snapshot ${snapshotId} is ${record.state}${record.reason ? ` (${record.reason})` : ''}; only a complete snapshot can be restored`,
      { retriable: false },
    );
  }
  return record.manifest;
}

/** The window a job can be restored to (`restorableWindow` over its stores). */
export async function jobRestorableWindow(
  side: BackupSide,
  jobId: string,
): Promise<{ snapshots: SnapshotManifest[]; window: RestorableWindow | undefined }> {
  const snapshots = await completeSnapshots(side, jobId);
  const ranges = new Map<string, StoredOplogRange | undefined>();
  for (const s of snapshots) {
    if (ranges.has(s.syncId)) continue;
    const [from, to] = await Promise.all([
      side.oplog.oldestOplogTs(jobId, s.syncId),
      side.oplog.latestOplogTs(jobId, s.syncId),
    ]);
    ranges.set(
      s.syncId,
      from === undefined || to === undefined ? undefined : { from, to: storedPosition(to) },
    );
  }
  const window = restorableWindow(snapshots, (syncId) => ranges.get(syncId));
  return { snapshots, window };
}

/** A MongoDB deployment as a restore target: `MongoHeadWriter` plus counting and dropping. */
export function deploymentTarget(client: MongoClient): RestoreTarget {
  return new DeploymentTarget(new MongoHeadWriter(client), new MongoNamespaceAdmin(client));
}

export interface RestoreRun {
  readonly job: JobView;
  readonly snapshotId?: string;
  readonly point?: RestorePoint;
  readonly target: RestoreTarget;
  /** The target deployment's client, for a point-in-time replay. */
  readonly targetClient?: MongoClient;
  readonly selection: RestoreSelection;
  readonly drop: boolean;
  readonly onProgress?: (p: RestoreProgress) => void;
  /** Least time between two progress reports (default 1000 ms). */
  readonly progressIntervalMs?: number;
  readonly signal?: AbortSignal;
}

export interface RestoreOutcome {
  readonly snapshotId: string;
  readonly at: { readonly opTime: string; readonly wallTime: string | null };
  readonly namespaces: Record<string, { documents: number; bytes: number; sourceNs: string }>;
  readonly documents: number;
  readonly bytes: number;
  readonly entries: number;
}

/** Runs a snapshot restore (`snapshotId`) or a point-in-time restore (`point`) into `target`. */
export async function runRestore(side: BackupSide, run: RestoreRun): Promise<RestoreOutcome> {
  const common = {
    target: run.target,
    selection: run.selection,
    drop: run.drop,
    ...(run.onProgress === undefined ? {} : { onProgress: run.onProgress }),
    ...(run.signal === undefined ? {} : { signal: run.signal }),
    ...(run.progressIntervalMs === undefined ? {} : { progressIntervalMs: run.progressIntervalMs }),
  };
  const documents = (m: RestoreSnapshot, ns: string) =>
    readNamespace(side.store, m as SnapshotManifest, ns, side.key);
  if (run.point === undefined) {
    const manifest = await completeSnapshot(side, run.job.id, run.snapshotId!);
    const result = await restoreSnapshot({
      ...common,
      snapshot: manifest,
      documents: (ns) => documents(manifest, ns),
    });
    return {
      snapshotId: result.snapshotId,
      at: { opTime: formatOpTime(manifest.opTime), wallTime: manifest.opWallTime?.toISOString() ?? null },
      namespaces: { ...result.namespaces },
      documents: result.documents,
      bytes: result.bytes,
      entries: 0,
    };
  }
  if (run.targetClient === undefined) {
    throw new TidemarkError('a point-in-time restore needs a MongoDB target (--to)', { retriable: false });
  }
  const { snapshots, window } = await jobRestorableWindow(side, run.job.id);
  const applyTarget = new MongoApplyTarget(run.targetClient, { readYourWrites: true });
  const result = await restorePointInTime({
    ...common,
    snapshots,
    window,
    point: run.point,
    documents,
    oplog: (syncId, after) =>
      storedOplogEntries(
        {
          store: side.oplog,
          decode: (payload, meta) => decodeSlicePayload(payload, meta, DEFAULT_SLICE_LIMITS),
          open: (raw, meta) => openSliceEntries(raw, meta, { verifyRoundTrip: true }),
        },
        run.job.id,
        syncId,
        after,
      ),
    applier: (mapNamespace) => new OplogApplier(applyTarget, { mapNamespace }),
  });
  return {
    snapshotId: result.snapshotId,
    at: { opTime: formatOpTime(result.at.opTime), wallTime: result.at.wallTime?.toISOString() ?? null },
    namespaces: { ...result.namespaces },
    documents: result.documents,
    bytes: result.bytes,
    entries: result.entries,
  };
}
