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

/** The stored oplog of one sync: from the oldest slice's start (`prevTs`) to the newest position. */
export interface StoredOplogRange {
  readonly from: OpTime;
  readonly to: OplogPosition;
}

/**
 * The window over a job's complete snapshots: from the oldest snapshot a replay can start from (of the newest
 * snapshot's sync, at or after the start of that sync's stored oplog: older ones were groomed past, or belong to a
 * sync whose oplog is gone) to the newest stored position of that sync (or the newest snapshot, when nothing is stored
 * past it). Older snapshots stay restorable as snapshots, not as points in between. `undefined` without a snapshot.
 */
export function restorableWindow(
  snapshots: readonly WindowSnapshot[],
  stored: (syncId: string) => StoredOplogRange | undefined,
): RestorableWindow | undefined {
  if (snapshots.length === 0) return undefined;
  const byPosition = [...snapshots].sort((a, b) => compareOpTime(a.opTime, b.opTime));
  const newest = byPosition[byPosition.length - 1]!;
  const range = stored(newest.syncId);
  const replayable = byPosition.filter(
    (s) => s.syncId === newest.syncId && (range === undefined || compareOpTime(s.opTime, range.from) >= 0),
  );
  const oldest = replayable[0] ?? newest;
  const to =
    range !== undefined && compareOpTime(range.to.opTime, newest.opTime) > 0
      ? range.to
      : snapshotPosition(newest);
  return { from: snapshotPosition(oldest), to };
}

/**
 * How far a sync's stored oplog may be groomed so that any point of the last `windowMs` stays restorable: through
 * the position of the newest complete snapshot at or before `now - windowMs` (a restore to a point in the window
 * starts from it or a later one, and replays only what follows it). `undefined`: nothing may go (no snapshot is that
 * old). The caller keeps the slice covering that position and everything after it.
 */
export function oplogGroomPoint(
  snapshots: readonly WindowSnapshot[],
  windowMs: number,
  now: Date,
): OpTime | undefined {
  const horizon = now.getTime() - windowMs;
  const old = snapshots.filter((s) => positionMillis(snapshotPosition(s)) <= horizon);
  if (old.length === 0) return undefined;
  return old.reduce((a, b) => (compareOpTime(b.opTime, a.opTime) > 0 ? b : a)).opTime;
}

export function describePosition(p: OplogPosition): string {
  return `${formatOpTime(p.opTime)}${p.wallTime === undefined ? '' : ` (${p.wallTime.toISOString()})`}`;
}

export function describeWindow(w: RestorableWindow): string {
  return `${describePosition(w.from)} to ${describePosition(w.to)}`;
}
