/** The snapshotter's settings from the environment (docs/services.md). */
import { intFromEnv } from '@tidemark/service-shell';

export interface SnapshotSettings {
  /** `TIDEMARK_SNAPSHOT_TICK_MS` (default 30000): how often the schedule is checked for every job. */
  readonly tickMs: number;
  /** `TIDEMARK_SNAPSHOT_DB` (default `tidemark_snapshots`): the blockstore's and s3 metadata's database. */
  readonly database: string;
  /** `TIDEMARK_SNAPSHOT_S3_PREFIX` (default `snapshots`): key prefix of the s3 store's objects. */
  readonly s3Prefix: string;
  /** `TIDEMARK_SNAPSHOT_LEASE_MS` (default 60000): lifetime of the store lock and the apply fence between renewals. */
  readonly leaseTtlMs: number;
  /** `TIDEMARK_SNAPSHOT_FENCE_WAIT_MS` (default 30000): how long a snapshot waits for the oplog-applier to let go. */
  readonly fenceWaitMs: number;
}

export function loadSnapshotSettings(env: NodeJS.ProcessEnv = process.env): SnapshotSettings {
  const text = (name: string, fallback: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? fallback : value;
  };
  return {
    tickMs: intFromEnv(env, 'TIDEMARK_SNAPSHOT_TICK_MS', 30_000, 100, 86_400_000),
    database: text('TIDEMARK_SNAPSHOT_DB', 'tidemark_snapshots'),
    s3Prefix: text('TIDEMARK_SNAPSHOT_S3_PREFIX', 'snapshots'),
    leaseTtlMs: intFromEnv(env, 'TIDEMARK_SNAPSHOT_LEASE_MS', 60_000, 1_000, 3_600_000),
    fenceWaitMs: intFromEnv(env, 'TIDEMARK_SNAPSHOT_FENCE_WAIT_MS', 30_000, 100, 3_600_000),
  };
}
