/**
 * What a job retains, and so what `terminate` deletes: its complete snapshots, the slices its syncs keep in the
 * oplog store, and its head databases. Shown by `GET /api/v1/jobs/:id/retained` and in `terminate`'s answer
 * (docs/api.md), so a user sees what will go before it goes, and what went.
 */
import type { StoredSliceTotals } from '@tidemark/domain';
import type { SnapshotEntry } from './snapshot-catalog';

/** One sync that still holds data (`deletedThrough < syncNo`): its slices and its head databases' names. */
export interface RetainedSync {
  readonly syncId: string;
  readonly slices: StoredSliceTotals;
  readonly headDatabases: readonly string[];
}

/** The answer's JSON (byte counts are decimal strings, as every int64 counter of the API). */
export interface RetainedView {
  jobId: string;
  snapshots: { count: number; logicalBytes: string; storedBytes: string };
  oplogSlices: { count: number; bytes: string };
  headDatabases: string[];
}

/** Snapshot states whose data a store still holds (a requested one holds nothing yet). */
const HOLDING_DATA = new Set<SnapshotEntry['state']>(['in-progress', 'complete', 'failed']);

export function retainedView(
  jobId: string,
  snapshots: readonly SnapshotEntry[],
  syncs: readonly RetainedSync[],
): RetainedView {
  const held = snapshots.filter((s) => HOLDING_DATA.has(s.state));
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + BigInt(b), 0n).toString();
  return {
    jobId,
    snapshots: {
      count: held.filter((s) => s.state === 'complete').length,
      logicalBytes: sum(held.map((s) => s.logicalBytes)),
      storedBytes: sum(held.map((s) => s.storedBytes)),
    },
    oplogSlices: {
      count: syncs.reduce((n, s) => n + s.slices.slices, 0),
      bytes: sum(syncs.map((s) => s.slices.bytes)),
    },
    headDatabases: [...new Set(syncs.flatMap((s) => s.headDatabases))].sort(),
  };
}
