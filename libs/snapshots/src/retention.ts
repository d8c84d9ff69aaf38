/**
 * Snapshot schedule and retention, as Ops Manager words them: a snapshot every `interval` (6 h by default); every
 * snapshot is kept for the base retention; beyond it, the newest snapshot of each of the last `daily` days, `weekly`
 * weeks and `monthly` months is kept. Days, weeks (ISO, from Monday) and months are UTC calendar periods, the current
 * one included. Pure functions: the caller deletes the expired records (their blocks go by grooming).
 */
import { TidemarkError } from '@tidemark/domain';
import type { SnapshotState } from './manifest';

export interface RetentionPolicy {
  /** Time between scheduled snapshots. */
  readonly intervalMs: number;
  /** Every complete snapshot younger than this is kept. */
  readonly baseRetentionMs: number;
  /** Keep the newest snapshot of each of the last `daily` UTC days. */
  readonly daily: number;
  /** ... of each of the last `weekly` ISO weeks (UTC, from Monday). */
  readonly weekly: number;
  /** ... of each of the last `monthly` UTC calendar months. */
  readonly monthly: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_SNAPSHOT_INTERVAL_MS = 6 * HOUR;

export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({
  intervalMs: DEFAULT_SNAPSHOT_INTERVAL_MS,
  baseRetentionMs: 2 * DAY,
  daily: 7,
  weekly: 4,
  monthly: 12,
});

/** An in-progress snapshot older than this (or the base retention, if longer) was abandoned by a crashed taker. */
export const ABANDONED_AFTER_MS = DAY;

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

/** Which snapshots to keep and which expire at `now` under `policy`. Every snapshot given is in exactly one list. */
export function applyRetention(
  snapshots: readonly RetainedSnapshot[],
  policy: RetentionPolicy,
  now: Date,
): RetentionDecision {
  const at = now.getTime();
  const reasons = new Map<string, string[]>(snapshots.map((s) => [s.snapshotId, []]));
  const expire: Array<{ snapshotId: string; reason: string }> = [];
  const complete = snapshots
    .filter((s) => s.state === 'complete')
    .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  for (const s of complete) {
    if (at - s.takenAt.getTime() < policy.baseRetentionMs) reasons.get(s.snapshotId)?.push('base');
  }
  const periods: Array<['daily' | 'weekly' | 'monthly', 'day' | 'week' | 'month', (t: number) => string]> = [
    ['daily', 'day', dayKey],
    ['weekly', 'week', weekKey],
    ['monthly', 'month', monthKey],
  ];
  for (const [name, kind, key] of periods) {
    const wanted = recentPeriods(at, policy[name], kind);
    const seen = new Set<string>();
    for (const s of complete) {
      const period = key(s.takenAt.getTime());
      if (!wanted.has(period) || seen.has(period)) continue;
      seen.add(period); // newest first: the first one seen is the period's newest
      reasons.get(s.snapshotId)?.push(`${name} ${period}`);
    }
  }
  const abandonedAfter = Math.max(ABANDONED_AFTER_MS, policy.baseRetentionMs);
  const keep: Array<{ snapshotId: string; reasons: string[] }> = [];
  for (const s of snapshots) {
    const why = reasons.get(s.snapshotId) ?? [];
    const age = at - s.takenAt.getTime();
    if (s.state === 'in-progress') {
      if (age < abandonedAfter) keep.push({ snapshotId: s.snapshotId, reasons: ['in-progress'] });
      else
        expire.push({
          snapshotId: s.snapshotId,
          reason: `in-progress for ${formatDuration(age)}: abandoned`,
        });
    } else if (s.state === 'failed') {
      if (age < policy.baseRetentionMs)
        keep.push({ snapshotId: s.snapshotId, reasons: ['failed, kept for diagnosis'] });
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

/** A retention or interval setting is not valid. `problems` names each. Not retriable. */
export class InvalidRetentionError extends TidemarkError {
  override readonly name: string = 'InvalidRetentionError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid snapshot schedule: ${problems.join('; ')}`, { retriable: false });
    this.problems = [...problems];
  }
}

const DURATION = /^(\d{1,6})(m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { m: MINUTE, h: HOUR, d: DAY };

/** Parses `15m`, `6h`, `2d` (minutes, hours, days; a whole number and one unit) into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = DURATION.exec(text.trim());
  if (match === null) {
    throw new InvalidRetentionError([`${what} "${text}" is not a duration like 15m, 6h or 2d`]);
  }
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Writes milliseconds as the largest whole unit (`2d`, `6h`, `15m`), or `<n>ms`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Shortest and longest snapshot interval. */
export const MIN_SNAPSHOT_INTERVAL_MS = 5 * MINUTE;
export const MAX_SNAPSHOT_INTERVAL_MS = 7 * DAY;

/** Parses `--snapshot-interval` (e.g. `6h`, `15m`): 5 minutes to 7 days. */
export function parseSnapshotInterval(text: string): number {
  const ms = parseDuration(text, '--snapshot-interval');
  if (ms < MIN_SNAPSHOT_INTERVAL_MS || ms > MAX_SNAPSHOT_INTERVAL_MS) {
    throw new InvalidRetentionError([
      `--snapshot-interval ${text} is outside ${formatDuration(MIN_SNAPSHOT_INTERVAL_MS)}..${formatDuration(MAX_SNAPSHOT_INTERVAL_MS)}`,
    ]);
  }
  return ms;
}

/**
 * Parses `--retention base=2d,daily=7,weekly=4,monthly=12` (any subset, any order; what is left out keeps its
 * default) and combines it with the interval (default 6 h) into a policy. Lists every problem: unknown or repeated
 * keys, malformed values, counts outside 0..1000, and a base retention shorter than the interval.
 */
export function parseRetention(text: string, intervalMs = DEFAULT_SNAPSHOT_INTERVAL_MS): RetentionPolicy {
  const problems: string[] = [];
  const values: { -readonly [K in keyof RetentionPolicy]: number } = { ...DEFAULT_RETENTION, intervalMs };
  const seen = new Set<string>();
  const items = text.trim() === '' ? [] : text.split(',');
  for (const item of items) {
    const [rawKey, rawValue, ...extra] = item.split('=');
    const key = (rawKey ?? '').trim();
    const value = (rawValue ?? '').trim();
    if (extra.length > 0 || rawValue === undefined || value === '') {
      problems.push(`"${item.trim()}" is not key=value`);
      continue;
    }
    if (seen.has(key)) {
      problems.push(`${key} is given twice`);
      continue;
    }
    seen.add(key);
    if (key === 'base') {
      try {
        values.baseRetentionMs = parseDuration(value, 'base');
      } catch (err) {
        problems.push(...(err as InvalidRetentionError).problems);
      }
    } else if (key === 'daily' || key === 'weekly' || key === 'monthly') {
      if (!/^\d{1,4}$/.test(value) || Number(value) > 1000) {
        problems.push(`${key}=${value}: need a whole number 0..1000`);
      } else {
        values[key] = Number(value);
      }
    } else {
      problems.push(`unknown key "${key}" (known: base, daily, weekly, monthly)`);
    }
  }
  if (problems.length === 0 && values.baseRetentionMs < values.intervalMs) {
    problems.push(
      `base retention ${formatDuration(values.baseRetentionMs)} is shorter than the snapshot interval ` +
        `${formatDuration(values.intervalMs)}: some scheduled snapshots would never be kept`,
    );
  }
  if (problems.length > 0) throw new InvalidRetentionError(problems);
  return values;
}
