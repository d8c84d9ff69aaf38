/**
 * Which of a job's snapshots its retention keeps, and which expire. The schedule and its retention (minutes), their
 * defaults, rules and parsing are the domain's (`SnapshotSchedule`, `SnapshotRetention` in
 * `@tidemark/domain`'s `snapshot-schedule.ts`): every complete snapshot younger than `baseMinutes` is kept; beyond
 * it, the newest snapshot of each of the last `daily` days, `weekly` weeks and `monthly` months. Days, weeks (ISO,
 * from Monday) and months are UTC calendar periods, the current one included. A pure function: the caller deletes
 * the expired records (their blocks go by grooming).
 */
import { formatDurationMinutes, type SnapshotRetention } from '@tidemark/domain';
import type { SnapshotState } from './manifest';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** An in-progress snapshot older than this (or the base retention, if longer) was abandoned by a crashed taker. */
export const ABANDONED_AFTER_MINUTES = 24 * 60;

/** What retention needs to know of a snapshot. */
export interface RetainedSnapshot {
  readonly snapshotId: string;
  readonly takenAt: Date;
  readonly state: SnapshotState;
}

export interface RetentionDecision {
  /** Kept snapshots, each with why (`base`, `daily 2026-12-01`, `weekly 2026-W48`, `monthly 2026-11`, `in-progress`). */
  readonly keep: ReadonlyArray<{ readonly snapshotId: string; readonly reasons: readonly string[] }>;
  /** Snapshots to delete, each with why. */
  readonly expire: ReadonlyArray<{ readonly snapshotId: string; readonly reason: string }>;
}

function dayKey(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** ISO week `YYYY-Www` (UTC) of a time. */
function weekKey(time: number): string {
  const date = new Date(time);
  const day = (date.getUTCDay() + 6) % 7; // Monday 0
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function monthKey(time: number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** The keys of the last `count` periods up to `now`, the current one included. */
function recentPeriods(now: number, count: number, kind: 'day' | 'week' | 'month'): Set<string> {
  const keys = new Set<string>();
  const date = new Date(now);
  for (let k = 0; k < count; k++) {
    if (kind === 'day') keys.add(dayKey(now - k * DAY));
    else if (kind === 'week') keys.add(weekKey(now - k * 7 * DAY));
    else keys.add(monthKey(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - k, 1)));
  }
  return keys;
}

/**
 * Which snapshots to keep and which expire at `now` under the schedule's `retention`. Every snapshot given is in
 * exactly one list.
 */
export function applyRetention(
  snapshots: readonly RetainedSnapshot[],
  retention: SnapshotRetention,
  now: Date,
): RetentionDecision {
  const at = now.getTime();
  const baseMs = retention.baseMinutes * MINUTE;
  const reasons = new Map<string, string[]>(snapshots.map((s) => [s.snapshotId, []]));
  const expire: Array<{ snapshotId: string; reason: string }> = [];
  const complete = snapshots
    .filter((s) => s.state === 'complete')
    .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  for (const s of complete) {
    if (at - s.takenAt.getTime() < baseMs) reasons.get(s.snapshotId)?.push('base');
  }
  const periods: Array<['daily' | 'weekly' | 'monthly', 'day' | 'week' | 'month', (t: number) => string]> = [
    ['daily', 'day', dayKey],
    ['weekly', 'week', weekKey],
    ['monthly', 'month', monthKey],
  ];
  for (const [name, kind, key] of periods) {
    const wanted = recentPeriods(at, retention[name], kind);
    const seen = new Set<string>();
    for (const s of complete) {
      const period = key(s.takenAt.getTime());
      if (!wanted.has(period) || seen.has(period)) continue;
      seen.add(period); // newest first: the first one seen is the period's newest
      reasons.get(s.snapshotId)?.push(`${name} ${period}`);
    }
  }
  const abandonedAfter = Math.max(ABANDONED_AFTER_MINUTES * MINUTE, baseMs);
  const keep: Array<{ snapshotId: string; reasons: string[] }> = [];
  for (const s of snapshots) {
    const why = reasons.get(s.snapshotId) ?? [];
    const age = at - s.takenAt.getTime();
    if (s.state === 'in-progress') {
      if (age < abandonedAfter) keep.push({ snapshotId: s.snapshotId, reasons: ['in-progress'] });
      else
        expire.push({
          snapshotId: s.snapshotId,
          reason: `in-progress for ${formatDurationMinutes(Math.floor(age / MINUTE))}: abandoned`,
        });
    } else if (s.state === 'failed') {
      if (age < baseMs) keep.push({ snapshotId: s.snapshotId, reasons: ['failed, kept for diagnosis'] });
      else expire.push({ snapshotId: s.snapshotId, reason: 'failed, older than the base retention' });
    } else if (why.length > 0) {
      keep.push({ snapshotId: s.snapshotId, reasons: why });
    } else {
      expire.push({
        snapshotId: s.snapshotId,
        reason: 'outside the base retention and not kept by any period',
      });
    }
  }
  return { keep, expire };
}
