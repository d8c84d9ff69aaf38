/**
 * The restorable window of a job: from its oldest retained complete snapshot to the newest oplog position stored
 * for that snapshot's sync. A restore to any point inside it is exact (a snapshot at or before it, plus the stored
 * oplog up to it); outside it, nothing can be restored. job-state shows it in the status; restore refuses points
 * outside it.
 */
import { compareOpTime, formatOpTime, type OpTime } from './op-time';

/** A position in a job's oplog, with its wall time when known. */
export interface OplogPosition {
  readonly opTime: OpTime;
  readonly wallTime?: Date;
}

export interface RestorableWindow {
  readonly from: OplogPosition;
  readonly to: OplogPosition;
}

/** What the window needs of a complete snapshot. */
export interface WindowSnapshot {
  readonly opTime: OpTime;
  readonly opWallTime?: Date | undefined;
  readonly syncId: string;
}

/** Milliseconds of a position: its wall time, else its timestamp's seconds. */
export function positionMillis(p: OplogPosition): number {
  return p.wallTime?.getTime() ?? p.opTime.t * 1000;
}

/** A stored oplog position whose wall time is known only to the second (a slice's `lastTs`). */
export function storedPosition(ts: OpTime): OplogPosition {
  return { opTime: ts, wallTime: new Date(ts.t * 1000) };
}

export function snapshotPosition(s: WindowSnapshot): OplogPosition {
  return s.opWallTime === undefined ? { opTime: s.opTime } : { opTime: s.opTime, wallTime: s.opWallTime };
}

/**
 * The window over a job's complete snapshots: from the oldest to the newest stored oplog position of the newest
 * snapshot's sync (or the newest snapshot, when nothing is stored past it). `undefined` without a snapshot.
 */
export function restorableWindow(
  snapshots: readonly WindowSnapshot[],
  newestStored: (syncId: string) => OplogPosition | undefined,
): RestorableWindow | undefined {
  if (snapshots.length === 0) return undefined;
  const byPosition = [...snapshots].sort((a, b) => compareOpTime(a.opTime, b.opTime));
  const oldest = byPosition[0]!;
  const newest = byPosition[byPosition.length - 1]!;
  const stored = newestStored(newest.syncId);
  const to =
    stored !== undefined && compareOpTime(stored.opTime, newest.opTime) > 0
      ? stored
      : snapshotPosition(newest);
  return { from: snapshotPosition(oldest), to };
}

export function describePosition(p: OplogPosition): string {
  return `${formatOpTime(p.opTime)}${p.wallTime === undefined ? '' : ` (${p.wallTime.toISOString()})`}`;
}

export function describeWindow(w: RestorableWindow): string {
  return `${describePosition(w.from)} to ${describePosition(w.to)}`;
}
