/**
 * When a job's snapshots are taken, how long they are kept, and where they are stored: the job's snapshot
 * settings, as the API takes them (`schedule`, `snapshotStore`) and the CLI writes them
 * (`--snapshot-interval 6h`, `--retention base=2d,daily=7,weekly=4,monthly=12`, `--store`, `--store-path`,
 * `--encryption-key-file`).
 *
 * Retention in the spirit of Ops Manager: every snapshot younger than `baseMinutes` is kept; beyond that, the newest
 * snapshot of each of the last `daily` UTC days, `weekly` ISO weeks (from Monday) and `monthly` UTC months, the current
 * one included. Which records that keeps is `applyRetention` in `@tidemark/snapshots`.
 */
import { SNAPSHOT_STORE_KINDS, type SnapshotStoreKind } from './snapshot-event';

/** How long snapshots are kept. Counts are integers >= 0; `baseMinutes` >= 1 and at least the interval. */
export interface SnapshotRetention {
  /** Every snapshot younger than this is kept. */
  readonly baseMinutes: number;
  /** Daily snapshots kept (the newest snapshot of each UTC day). */
  readonly daily: number;
  /** Weekly snapshots kept (the newest snapshot of each ISO week). */
  readonly weekly: number;
  /** Monthly snapshots kept (the newest snapshot of each UTC month). */
  readonly monthly: number;
}

/** When snapshots are taken and how long backups are kept. */
export interface SnapshotSchedule {
  /**
   * Minutes between scheduled snapshots: an integer from {@link MIN_SNAPSHOT_INTERVAL_MINUTES} (snapshots are
   * incremental, so minutes are fine, but each takes the job's apply fence) to {@link MAX_SNAPSHOT_INTERVAL_MINUTES}.
   */
  readonly intervalMinutes: number;
  readonly retention: SnapshotRetention;
  /**
   * How far back, in hours, a point-in-time restore can go (integer >= 0; 0 turns point-in-time restore off).
   * Oplog slices are kept for this window plus back to the snapshot it needs.
   */
  readonly pointInTimeWindowHours: number;
}

const MINUTES_PER_DAY = 24 * 60;

/** Shortest snapshot interval: 5 minutes. */
export const MIN_SNAPSHOT_INTERVAL_MINUTES = 5;
/** Longest snapshot interval: 7 days. */
export const MAX_SNAPSHOT_INTERVAL_MINUTES = 7 * MINUTES_PER_DAY;

/** Every 6 hours; all kept for 2 days, then 7 daily, 4 weekly, 12 monthly; 24 h of point-in-time restore. */
export const DEFAULT_SNAPSHOT_SCHEDULE: SnapshotSchedule = Object.freeze({
  intervalMinutes: 6 * 60,
  retention: Object.freeze({ baseMinutes: 2 * MINUTES_PER_DAY, daily: 7, weekly: 4, monthly: 12 }),
  pointInTimeWindowHours: 24,
});

/** Where a job's snapshots go. */
export interface SnapshotStoreSpec {
  readonly kind: SnapshotStoreKind;
  /** `filesystem` only: the absolute directory the snapshotter writes under. */
  readonly path?: string;
  /** Absolute path of the file holding the encryption key, as the snapshotter sees it; absent: not encrypted. */
  readonly encryptionKeyFile?: string;
}

export const DEFAULT_SNAPSHOT_STORE: SnapshotStoreSpec = Object.freeze({ kind: 'blockstore' });

const isCount = (value: unknown, min: number): boolean =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

/** Problems with a schedule, as sentences (field names as in the API); empty when valid. */
export function validateSnapshotSchedule(schedule: SnapshotSchedule): string[] {
  const problems: string[] = [];
  const interval = schedule.intervalMinutes;
  const intervalValid = isCount(interval, 1);
  if (!intervalValid) problems.push('intervalMinutes must be an integer >= 1');
  else if (interval < MIN_SNAPSHOT_INTERVAL_MINUTES || interval > MAX_SNAPSHOT_INTERVAL_MINUTES) {
    problems.push(
      `intervalMinutes must be from ${MIN_SNAPSHOT_INTERVAL_MINUTES} to ${MAX_SNAPSHOT_INTERVAL_MINUTES} ` +
        `(${formatDurationMinutes(MIN_SNAPSHOT_INTERVAL_MINUTES)} to ${formatDurationMinutes(MAX_SNAPSHOT_INTERVAL_MINUTES)})`,
    );
  }
  if (!isCount(schedule.pointInTimeWindowHours, 0))
    problems.push('pointInTimeWindowHours must be an integer >= 0');
  const retention = schedule.retention as SnapshotRetention | undefined;
  if (typeof retention !== 'object' || retention === null) {
    problems.push('retention must be an object { baseMinutes, daily, weekly, monthly }');
    return problems;
  }
  if (!isCount(retention.baseMinutes, 1)) problems.push('retention.baseMinutes must be an integer >= 1');
  else if (intervalValid && retention.baseMinutes < interval) {
    problems.push(
      `retention.baseMinutes (${formatDurationMinutes(retention.baseMinutes)}) must be at least intervalMinutes ` +
        `(${formatDurationMinutes(interval)}): every scheduled snapshot is kept until the next one is taken`,
    );
  }
  for (const key of ['daily', 'weekly', 'monthly'] as const) {
    if (!isCount(retention[key], 0)) problems.push(`retention.${key} must be an integer >= 0`);
  }
  return problems;
}

const isAbsolute = (p: string): boolean => p.startsWith('/');
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Problems with a store spec, as sentences (field names as in the API); empty when valid. */
export function validateSnapshotStoreSpec(spec: SnapshotStoreSpec): string[] {
  const problems: string[] = [];
  if (!(SNAPSHOT_STORE_KINDS as readonly unknown[]).includes(spec.kind)) {
    problems.push(`kind must be one of ${SNAPSHOT_STORE_KINDS.join(', ')}`);
  }
  const path = (name: string, value: unknown): void => {
    if (typeof value !== 'string' || !isAbsolute(value) || CONTROL.test(value) || value.length > 1024) {
      problems.push(`${name} must be an absolute path (at most 1024 characters, no control characters)`);
    }
  };
  if (spec.kind === 'filesystem') path('path', spec.path);
  else if (spec.path !== undefined) problems.push(`path is only for the filesystem store, not ${spec.kind}`);
  if (spec.encryptionKeyFile !== undefined) path('encryptionKeyFile', spec.encryptionKeyFile);
  return problems;
}

const UNIT_MINUTES: Readonly<Record<string, number>> = {
  m: 1,
  h: 60,
  d: MINUTES_PER_DAY,
  w: 7 * MINUTES_PER_DAY,
};

/** A duration `<n><m|h|d|w>` (e.g. `15m`, `6h`, `2d`, `1w`) in minutes; throws a RangeError saying what it takes. */
export function parseDurationMinutes(text: string, what = 'duration'): number {
  const match = /^(\d{1,7})([mhdw])$/.exec(text.trim());
  const unit = match === null ? undefined : UNIT_MINUTES[match[2] ?? ''];
  const minutes = match === null || unit === undefined ? NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(minutes) || minutes < 1) {
    throw new RangeError(
      `${what} "${text}" is not a duration: give a whole number and m, h, d or w (e.g. 6h, 15m, 2d)`,
    );
  }
  return minutes;
}

/** Minutes written the way {@link parseDurationMinutes} reads them, in the largest exact unit. */
export function formatDurationMinutes(minutes: number): string {
  for (const unit of ['w', 'd', 'h'] as const) {
    const size = UNIT_MINUTES[unit] ?? 1;
    if (minutes % size === 0) return `${minutes / size}${unit}`;
  }
  return `${minutes}m`;
}

/**
 * `base=2d,daily=7,weekly=4,monthly=12` (any subset, any order) over `defaults`; throws one RangeError that names
 * every bad part (`; ` between them).
 */
export function parseRetention(
  text: string,
  defaults: SnapshotRetention = DEFAULT_SNAPSHOT_SCHEDULE.retention,
): SnapshotRetention {
  const out: { -readonly [K in keyof SnapshotRetention]: number } = { ...defaults };
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const [key = '', value = '', ...extra] = part.split('=');
    if (extra.length > 0 || value === '' || seen.has(key)) {
      problems.push(`retention part "${part}" must be key=value, each key once`);
      continue;
    }
    seen.add(key);
    if (key === 'base') {
      try {
        out.baseMinutes = parseDurationMinutes(value, 'retention base');
      } catch (err) {
        problems.push((err as Error).message);
      }
    } else if (key === 'daily' || key === 'weekly' || key === 'monthly') {
      if (/^\d{1,4}$/.test(value)) out[key] = Number(value);
      else problems.push(`retention ${key} "${value}" must be a whole number`);
    } else {
      problems.push(`retention key "${key}" is not one of base, daily, weekly, monthly`);
    }
  }
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return out;
}

/** A schedule as stored before minutes (job documents of format 1): `intervalHours`, `retention.snapshots`. */
export interface SnapshotScheduleV1 {
  readonly intervalHours: number;
  readonly retention: {
    readonly snapshots: number;
    readonly daily: number;
    readonly weekly: number;
    readonly monthly: number;
  };
  readonly pointInTimeWindowHours: number;
}

/** The same schedule in minutes: the base retention keeps as many scheduled snapshots as `snapshots` did. */
export function scheduleFromV1(s: SnapshotScheduleV1): SnapshotSchedule {
  const intervalMinutes = s.intervalHours * 60;
  const { snapshots, daily, weekly, monthly } = s.retention;
  return {
    intervalMinutes,
    retention: { baseMinutes: intervalMinutes * snapshots, daily, weekly, monthly },
    pointInTimeWindowHours: s.pointInTimeWindowHours,
  };
}
