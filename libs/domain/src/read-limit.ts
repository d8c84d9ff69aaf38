/**
 * A job's read limit: how fast the agent may read the job's source deployment, in **decimal megabytes per second**
 * (1 MB/s = 1,000,000 bytes of source data a second), during the initial sync's collection scan and while it
 * polls the oplog. Absent means uncapped. The API takes it as `readLimit` (a JSON number, or `null` for none), the
 * CLI writes it `--read-limit 5MB/s` (`parseReadLimit`), the agent turns it into a rate in bytes
 * (`readLimitBytesPerSecond`).
 *
 * Bounds: from {@link MIN_READ_LIMIT} (10 kB/s: slower than that a single large document takes minutes) to
 * {@link MAX_READ_LIMIT} (10 GB/s: above any source's read rate, so larger values are surely a mistake).
 */
import { showValue } from './tidemark-error';

/** Megabytes (10^6 bytes) per second, finite, in [{@link MIN_READ_LIMIT}, {@link MAX_READ_LIMIT}]. */
export type ReadLimit = number;

export const MIN_READ_LIMIT: ReadLimit = 0.01;
export const MAX_READ_LIMIT: ReadLimit = 10_000;

/** Bytes in one decimal megabyte. */
export const BYTES_PER_MB = 1_000_000;

/** The sentence every refusal of a read limit ends with: what the field takes. */
const TAKES = `a number of MB/s from ${MIN_READ_LIMIT} to ${MAX_READ_LIMIT} (decimal: 1 MB/s = 1,000,000 bytes a second)`;

/**
 * Problems with a read limit as the API receives it, as sentences naming `field`; empty when valid. `null` and
 * `undefined` (no limit) are valid here; callers that need a value check for them first.
 */
export function validateReadLimit(value: unknown, field = 'readLimit'): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isFinite(value))
    return [
      `${field} must be ${TAKES}, or null for no limit; got ${typeof value === 'number' ? String(value) : showValue(value)}`,
    ];
  if (value <= 0) return [`${field} must be greater than 0 (${TAKES}); use null for no limit, got ${value}`];
  if (value < MIN_READ_LIMIT || value > MAX_READ_LIMIT) return [`${field} must be ${TAKES}, got ${value}`];
  return [];
}

/** The limit as a rate in bytes per second. */
export function readLimitBytesPerSecond(limit: ReadLimit): number {
  return limit * BYTES_PER_MB;
}

/** `5 MB/s`, `0.5 MB/s`: how logs and the CLI show a limit (`none` for no limit). */
export function formatReadLimit(limit: ReadLimit | undefined | null): string {
  return limit === undefined || limit === null ? 'none' : `${limit} MB/s`;
}

const UNIT_MB: Readonly<Record<string, number>> = { kB: 0.001, MB: 1, GB: 1000 };

/**
 * A limit as the CLI takes it: `<number><kB|MB|GB>/s` in decimal units (`5MB/s`, `500kB/s`, `1.5 GB/s`), or `none`
 * for no limit (resolves `null`). Binary units (`MiB/s`) and bare numbers are refused so that nobody is off by 5%
 * or by a factor of a million. Throws a RangeError saying what it takes, or why the value is out of bounds.
 */
export function parseReadLimit(text: string, what = '--read-limit'): ReadLimit | null {
  const trimmed = text.trim();
  if (trimmed === 'none') return null;
  const match = /^(\d{1,9}(?:\.\d{1,6})?)\s?(kB|MB|GB)\/s$/.exec(trimmed);
  const unit = match === null ? undefined : UNIT_MB[match[2] ?? ''];
  if (match === null || unit === undefined) {
    throw new RangeError(
      `${what} "${text}" is not a read limit: give a number with kB/s, MB/s or GB/s (decimal units, e.g. 5MB/s, ` +
        `500kB/s), or none for no limit`,
    );
  }
  // Rounded to the millionth of a MB/s (a byte a second): 0.1 kB/s * 0.001 must not read 1.0000000000000002e-4.
  const limit = Math.round(Number(match[1]) * unit * 1e6) / 1e6;
  const problems = validateReadLimit(limit, what);
  if (problems.length > 0) throw new RangeError(`${problems.join('; ')} (from "${text}")`);
  return limit;
}
