/**
 * Points in time: parsing `--at T` (an ISO instant or an oplog position `t:i`) and the snapshot a point-in-time
 * restore starts from (the newest at or before T, inside the job's restorable window: `restorableWindow` of the
 * domain).
 */
import {
  TidemarkError,
  compareOpTime,
  describeWindow,
  parseOpTime,
  positionMillis,
  snapshotPosition,
  InvalidOpTimeError,
  type OpTime,
  type RestorableWindow,
} from '@tidemark/domain';
import type { RestoreSnapshot } from './ports';

export type RestorePoint =
  | { readonly kind: 'op-time'; readonly opTime: OpTime; readonly text: string }
  | { readonly kind: 'instant'; readonly at: Date; readonly text: string };

/** `--at` is neither an ISO instant nor an oplog position. Not retriable; nothing was written. */
export class RestorePointError extends TidemarkError {
  override readonly name: string = 'RestorePointError';
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`--at "${input}": ${reason}`, { retriable: false });
  }
}

/** The point is outside what the job can restore. Not retriable; nothing was written. */
export class OutsideRestorableWindowError extends TidemarkError {
  override readonly name: string = 'OutsideRestorableWindowError';
  constructor(
    readonly point: RestorePoint,
    readonly window: RestorableWindow | undefined,
    reason: string,
  ) {
    super(
      `cannot restore to ${point.text}: ${reason}; ${
        window === undefined
          ? 'the job has nothing restorable yet'
          : `the restorable window is ${describeWindow(window)}`
      }. Nothing was written`,
      { retriable: false },
    );
  }
}

/** Timezone required: an instant without one would mean the reader's local time. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses `--at`: `t:i`, or an ISO 8601 instant with a timezone (`2026-12-03T17:00:00Z`). */
export function parseRestorePoint(text: string): RestorePoint {
  const input = text.trim();
  if (/^\d+:\d+$/.test(input)) {
    try {
      return { kind: 'op-time', opTime: parseOpTime(input), text: input };
    } catch (err) {
      throw new RestorePointError(text, err instanceof InvalidOpTimeError ? err.message : String(err));
    }
  }
  if (!ISO_INSTANT.test(input)) {
    throw new RestorePointError(
      text,
      'expected an ISO 8601 instant with a timezone (e.g. 2026-12-03T17:00:00Z) or an oplog position <seconds>:<increment>',
    );
  }
  const at = new Date(input);
  if (Number.isNaN(at.getTime())) throw new RestorePointError(text, 'not a valid date');
  return { kind: 'instant', at, text: input };
}

/** Whether a snapshot lies at or before the point. */
function atOrBefore(s: RestoreSnapshot, point: RestorePoint): boolean {
  return point.kind === 'op-time'
    ? compareOpTime(s.opTime, point.opTime) <= 0
    : positionMillis(snapshotPosition(s)) <= point.at.getTime();
}

/**
 * The snapshot a restore to `point` starts from: the newest complete snapshot at or before it. Throws
 * {@link OutsideRestorableWindowError} when the point is before the window, after its end, or in the future.
 */
export function chooseSnapshot(
  snapshots: readonly RestoreSnapshot[],
  window: RestorableWindow | undefined,
  point: RestorePoint,
  now: Date,
): RestoreSnapshot {
  if (point.kind === 'instant' && point.at.getTime() > now.getTime()) {
    throw new OutsideRestorableWindowError(
      point,
      window,
      `it is in the future (now is ${now.toISOString()})`,
    );
  }
  if (window === undefined)
    throw new OutsideRestorableWindowError(point, window, 'the job has no complete snapshot');
  const after =
    point.kind === 'op-time'
      ? compareOpTime(point.opTime, window.to.opTime) > 0
      : point.at.getTime() > positionMillis(window.to);
  if (after)
    throw new OutsideRestorableWindowError(point, window, 'it is after the newest stored oplog position');
  const candidates = snapshots.filter((s) => atOrBefore(s, point));
  if (candidates.length === 0) {
    throw new OutsideRestorableWindowError(point, window, 'it is before the oldest retained snapshot');
  }
  return candidates.reduce((a, b) => (compareOpTime(b.opTime, a.opTime) > 0 ? b : a));
}
