/**
 * Oplog positions.
 *
 * An {@link OpTime} is the `(t, i)` pair of a MongoDB oplog timestamp: `t` is the seconds since the Unix epoch and
 * `i` the ordinal of the entry within that second, both unsigned 32-bit integers. Positions are ordered by `t`,
 * then by `i`; wall-clock time is never a position. As a single 64-bit value the position is `t << 32 | i`, which
 * exceeds 2^53, so it is only ever a `bigint` here, never a `number`.
 *
 * This module does not depend on `bson`: the adapters convert `bson.Timestamp` to and from `OpTime`.
 */
import { TidemarkError, type CauseOption } from './tidemark-error';

/** An oplog position. Both fields are integers in `0..UINT32_MAX`; use {@link isOpTime} to check untrusted data. */
export interface OpTime {
  /** Seconds since the Unix epoch (unsigned 32-bit). */
  readonly t: number;
  /** Ordinal of the entry within second `t` (unsigned 32-bit). */
  readonly i: number;
}

/** The largest value of either field: 2^32 - 1. */
export const UINT32_MAX = 0xffff_ffff;

/** The smallest position; sorts before every oplog entry. */
export const MIN_OP_TIME: OpTime = Object.freeze({ t: 0, i: 0 });

/** The largest position. */
export const MAX_OP_TIME: OpTime = Object.freeze({ t: UINT32_MAX, i: UINT32_MAX });

const UINT64_MAX = (1n << 64n) - 1n;

function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
}

/** True when `value` is an object with integer `t` and `i` in `0..UINT32_MAX`. */
export function isOpTime(value: unknown): value is OpTime {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { t?: unknown; i?: unknown };
  return isUint32(candidate.t) && isUint32(candidate.i);
}

/** Builds a position, checking both fields; throws {@link InvalidOpTimeError} when either is out of range. */
export function opTime(t: number, i: number): OpTime {
  const value = { t, i };
  assertOpTime(value);
  return value;
}

/** Throws {@link InvalidOpTimeError} unless `value` is a valid {@link OpTime}. */
export function assertOpTime(value: unknown): asserts value is OpTime {
  if (isOpTime(value)) return;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOpTimeError(String(value), 'expected an object { t, i }');
  }
  const { t, i } = value as { t?: unknown; i?: unknown };
  const field = isUint32(t) ? 'increment' : 'seconds';
  throw new InvalidOpTimeError(
    `${String(t)}:${String(i)}`,
    `${field} must be an integer in 0..${UINT32_MAX}`,
  );
}

/** Orders two positions: negative when `a` is earlier, zero when equal, positive when `a` is later. */
export function compareOpTime(a: OpTime, b: OpTime): -1 | 0 | 1 {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  if (a.i !== b.i) return a.i < b.i ? -1 : 1;
  return 0;
}

/** True when both positions are the same entry. */
export function opTimeEquals(a: OpTime, b: OpTime): boolean {
  return a.t === b.t && a.i === b.i;
}

/** True when `a` is strictly later than `b`. */
export function isAfter(a: OpTime, b: OpTime): boolean {
  return compareOpTime(a, b) > 0;
}

/** True when `a` is strictly earlier than `b`. */
export function isBefore(a: OpTime, b: OpTime): boolean {
  return compareOpTime(a, b) < 0;
}

/** The latest of the given positions. */
export function maxOpTime(first: OpTime, ...rest: OpTime[]): OpTime {
  return rest.reduce((best, next) => (isAfter(next, best) ? next : best), first);
}

/** The earliest of the given positions. */
export function minOpTime(first: OpTime, ...rest: OpTime[]): OpTime {
  return rest.reduce((best, next) => (isBefore(next, best) ? next : best), first);
}

/** The position as one unsigned 64-bit value, `t << 32 | i`. Throws {@link InvalidOpTimeError} if invalid. */
export function opTimeToBigInt(value: OpTime): bigint {
  assertOpTime(value);
  return (BigInt(value.t) << 32n) | BigInt(value.i);
}

/** The inverse of {@link opTimeToBigInt}. Throws {@link InvalidOpTimeError} outside `0..2^64-1`. */
export function opTimeFromBigInt(value: bigint): OpTime {
  if (value < 0n || value > UINT64_MAX) {
    throw new InvalidOpTimeError(value.toString(), `must be in 0..${UINT64_MAX} (t << 32 | i)`);
  }
  return { t: Number(value >> 32n), i: Number(value & 0xffff_ffffn) };
}

/** Formats a position as `<t>:<i>` (the form mongo-tools' `--oplogLimit` takes), e.g. `1700000000:3`. */
export function formatOpTime(value: OpTime): string {
  return `${value.t}:${value.i}`;
}

const OP_TIME_TEXT = /^(\d+):(\d+)$/;

function parseField(input: string, digits: string, what: string): number {
  // Compare as bigint so a long digit string cannot round down into range.
  if (BigInt(digits) > BigInt(UINT32_MAX)) {
    throw new InvalidOpTimeError(input, `${what} ${digits} is out of range 0..${UINT32_MAX}`);
  }
  return Number(digits);
}

/**
 * Parses `<t>:<i>` (decimal, no sign, no spaces inside) into a position. Surrounding whitespace is ignored.
 * Throws {@link InvalidOpTimeError} naming the problem: wrong shape, or seconds / increment above 2^32 - 1.
 */
export function parseOpTime(text: string): OpTime {
  const input = text.trim();
  const match = OP_TIME_TEXT.exec(input);
  if (match === null) {
    throw new InvalidOpTimeError(
      text,
      'expected "<seconds>:<increment>" with decimal digits, e.g. "1700000000:1"',
    );
  }
  const [, seconds = '', increment = ''] = match;
  return { t: parseField(text, seconds, 'seconds'), i: parseField(text, increment, 'increment') };
}

/** Text that should be an oplog position `<t>:<i>` is not one, or a number is out of range. Not retriable. */
export class InvalidOpTimeError extends TidemarkError {
  override readonly name: string = 'InvalidOpTimeError';
  /** The rejected input, as text. */
  readonly input: string;

  constructor(input: string, reason: string, options: CauseOption = {}) {
    super(`invalid oplog timestamp "${input}": ${reason}`, { retriable: false, cause: options.cause });
    this.input = input;
  }
}
