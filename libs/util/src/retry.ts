/**
 * One retrier for the whole codebase.
 *
 * `retry(fn, opts)` calls `fn` until it succeeds, retrying only errors that `opts.isRetriable` accepts (by default:
 * errors whose `retriable` property is `true`, which is how Tidemark's errors say so). Everything else is thrown
 * unchanged at once, so callers can branch on its type. Programming errors (`TypeError`, `RangeError`,
 * `SyntaxError`, `ReferenceError`, `EvalError`, `URIError`) are never retried, whatever `isRetriable` says.
 *
 * Between attempts it waits as `opts.backoff` says (a {@link Backoff}; default {@link RETRY_DEFAULT}, 100 ms
 * doubling up to 10 s, full jitter). It gives up after `maxAttempts` attempts, or when the next wait would end past
 * `maxElapsedMs`, and then throws {@link RetriesExhaustedError} with the last error as `cause`.
 */
import type { Backoff } from './backoff';
import { RETRY_DEFAULT } from './backoff-policies';
import { abortReason, sleep } from './sleep';

export interface RetryEvent {
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** Its error. */
  error: unknown;
  /** How long the retrier will wait before the next attempt. */
  delayMs: number;
  /** Time since the first attempt started. */
  elapsedMs: number;
}

export interface RetryOptions {
  /** Attempts in total, the first included (integer >= 1, or Infinity with a finite `maxElapsedMs`). Default 5. */
  maxAttempts?: number;
  /**
   * Time budget from the first attempt, ms: no wait is started that would end after it. A running attempt is not
   * interrupted (give `fn` its own timeout). Default Infinity.
   */
  maxElapsedMs?: number;
  /** How long to wait between attempts: one of `backoff-policies.ts`. Default {@link RETRY_DEFAULT}. */
  backoff?: Backoff;
  /** Which errors a retry can fix. Default: `err.retriable === true`. Programming errors are never retried. */
  isRetriable?: (err: unknown) => boolean;
  /** Called before each wait. If it throws, retrying stops and that error propagates. */
  onRetry?: (event: RetryEvent) => void;
  /** Aborting stops at once: the pending wait rejects with the signal's reason, and no new attempt starts. */
  signal?: AbortSignal;
  /** Names the operation in {@link RetriesExhaustedError}'s message. Default "operation". */
  what?: string;
  /** Source of randomness in [0, 1), for tests. Default Math.random. */
  random?: () => number;
}

/** What `fn` receives on each attempt. */
export interface AttemptContext {
  /** From 1. */
  attempt: number;
  /** The caller's signal, if any, to pass on to the I/O the attempt does. */
  signal: AbortSignal | undefined;
}

/** The retrier gave up on a retriable error. Not retriable itself; the last error is `cause`. */
export class RetriesExhaustedError extends Error {
  override readonly name: string = 'RetriesExhaustedError';
  readonly retriable = false;
  readonly attempts: number;
  readonly elapsedMs: number;

  constructor(what: string, attempts: number, elapsedMs: number, cause: unknown) {
    const last = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `${what} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${elapsedMs} ms: ${last}`,
      {
        cause,
      },
    );
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
  }
}

/** True for the built-in error types that signal a bug, not a transient condition. */
export function isProgrammingError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof SyntaxError ||
    err instanceof ReferenceError ||
    err instanceof EvalError ||
    err instanceof URIError
  );
}

/** The default classification: the error says `retriable: true` itself. */
export function hasRetriableFlag(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

function checkLimits(maxAttempts: number, maxElapsedMs: number): void {
  if (!(Number.isSafeInteger(maxAttempts) && maxAttempts >= 1) && maxAttempts !== Infinity) {
    throw new RangeError(`retry: maxAttempts must be an integer >= 1 or Infinity, got ${maxAttempts}`);
  }
  if (maxAttempts === Infinity && maxElapsedMs === Infinity) {
    throw new RangeError('retry: maxAttempts and maxElapsedMs cannot both be Infinity');
  }
  if (!(maxElapsedMs >= 0)) throw new RangeError(`retry: maxElapsedMs must be >= 0, got ${maxElapsedMs}`);
}

/**
 * Runs `fn` until it resolves, retrying retriable errors with backoff (see the module comment). Resolves with
 * `fn`'s value; rejects with a non-retriable error unchanged, with {@link RetriesExhaustedError} when out of
 * attempts or time, or with the signal's reason when aborted.
 */
export async function retry<T>(fn: (ctx: AttemptContext) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const maxElapsedMs = opts.maxElapsedMs ?? Infinity;
  checkLimits(maxAttempts, maxElapsedMs);
  const backoff = opts.backoff ?? RETRY_DEFAULT;
  const isRetriable = opts.isRetriable ?? hasRetriableFlag;
  const random = opts.random ?? Math.random;
  const { signal } = opts;
  const started = Date.now();

  for (let attempt = 1; ; attempt += 1) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await fn({ attempt, signal });
    } catch (error) {
      if (isProgrammingError(error) || !isRetriable(error)) throw error;
      if (signal?.aborted) throw abortReason(signal);
      const elapsedMs = Date.now() - started;
      const delayMs = backoff.delayMs(attempt, random);
      if (attempt >= maxAttempts || elapsedMs + delayMs > maxElapsedMs) {
        throw new RetriesExhaustedError(opts.what ?? 'operation', attempt, elapsedMs, error);
      }
      opts.onRetry?.({ attempt, error, delayMs, elapsedMs });
      await sleep(delayMs, signal);
    }
  }
}
