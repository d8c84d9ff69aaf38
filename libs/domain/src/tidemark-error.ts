/**
 * The base of Tidemark's errors and their classification; the named errors are listed in `errors.ts`. This module
 * imports nothing, so every module of the domain can build on it without an import cycle.
 *
 * Every error a Tidemark component raises on purpose is a {@link TidemarkError}. It always says whether a retry
 * can fix it (`retriable`, required, no default) and keeps the error it wraps in `cause`. Named subclasses carry
 * their context in fields (job id, slice id, oplog timestamp, ...), so callers branch on the type and read the
 * fields instead of parsing messages.
 *
 * Classification rule: only a `TidemarkError` constructed with `retriable: true` is retriable. Anything else,
 * including errors of unknown origin, is fatal ({@link isRetriable}). Adapters classify their driver's errors in
 * one table and wrap them in a `TidemarkError` with the right flag.
 */

/** Options every {@link TidemarkError} takes. `retriable` is required on purpose: there is no safe default. */
export interface TidemarkErrorOptions {
  /** True only when repeating the same operation later can succeed (network blip, throttling, leader change). */
  retriable: boolean;
  /** The error this one wraps, if any. */
  cause?: unknown;
}

/** Options of the named subclasses, whose retriability is fixed by the class. */
export interface CauseOption {
  cause?: unknown;
}

/** Base class of every error Tidemark raises on purpose. */
export class TidemarkError extends Error {
  override readonly name: string = 'TidemarkError';
  /** Whether a retry of the same operation can succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: TidemarkErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable;
  }
}

/**
 * True only for a {@link TidemarkError} constructed with `retriable: true`. Unknown errors (driver errors nobody
 * classified, programming errors, non-Error values) are fatal.
 */
export function isRetriable(err: unknown): boolean {
  return err instanceof TidemarkError && err.retriable;
}

/** How deep {@link describeError} follows `cause` before it stops. */
const MAX_CAUSE_DEPTH = 8;

function describeOne(err: unknown): string {
  if (err instanceof Error) {
    const message = err.message.replace(/\s+/g, ' ').trim();
    return message === '' ? err.name : `${err.name}: ${message}`;
  }
  if (typeof err === 'string') return err.replace(/\s+/g, ' ').trim();
  try {
    return `non-error value: ${String(err)}`;
  } catch {
    return 'non-error value';
  }
}

/**
 * One line saying why something failed, with the cause chain: `A: msg <- caused by B: msg <- caused by C: msg`.
 * Whitespace in messages collapses to single spaces; cycles and very deep chains are cut off with `...`.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== undefined && current !== null) {
    if (seen.has(current) || parts.length >= MAX_CAUSE_DEPTH) {
      parts.push('...');
      break;
    }
    seen.add(current);
    parts.push(describeOne(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  if (parts.length === 0) return describeOne(err);
  return parts.join(' <- caused by ');
}

/**
 * A value as an error message quotes it: its JSON (a bigint as `12n`), cut to 80 characters; `(absent)` for
 * undefined. For the "got ..." of a check that refuses a value.
 */
export function showValue(value: unknown): string {
  if (value === undefined) return '(absent)';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return `<${typeof value}>`;
  }
}
