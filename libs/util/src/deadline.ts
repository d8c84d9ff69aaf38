/**
 * Time limits on promises.
 *
 * `withTimeout(work, ms, what)` settles like `work`, or rejects with a {@link TimeoutError} naming `what` after
 * `ms` milliseconds. A promise cannot be cancelled, so pass a function instead when the work can stop: it gets an
 * `AbortSignal` that aborts when the time is up (and when the caller's own signal aborts).
 */
import { abortReason } from './sleep';

/**
 * `what` did not finish within `timeoutMs`. `retriable` is what the caller passed to {@link withTimeout}
 * (default false: a timeout is only worth retrying when the caller knows the operation is safe to repeat).
 */
export class TimeoutError extends Error {
  override readonly name: string = 'TimeoutError';
  readonly what: string;
  readonly timeoutMs: number;
  readonly retriable: boolean;

  constructor(what: string, timeoutMs: number, retriable: boolean) {
    super(`${what} timed out after ${timeoutMs} ms`);
    this.what = what;
    this.timeoutMs = timeoutMs;
    this.retriable = retriable;
  }
}

export interface WithTimeoutOptions {
  /** Sets {@link TimeoutError.retriable}. Default false. */
  retriable?: boolean;
  /** The caller's own signal: aborting it rejects at once with its reason and aborts the work's signal. */
  signal?: AbortSignal;
}

/**
 * Settles like `work` if it settles within `ms`; otherwise rejects with a {@link TimeoutError} whose message is
 * `<what> timed out after <ms> ms`. The timer is always cleared. If `work` rejects after the timeout, that late
 * rejection is dropped on purpose: the caller already has the timeout error, and an unhandled rejection would
 * crash the process.
 */
export function withTimeout<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  ms: number,
  what: string,
  options: WithTimeoutOptions = {},
): Promise<T> {
  if (!Number.isFinite(ms) || ms < 0) {
    return Promise.reject(new RangeError(`withTimeout(${what}): ms must be a finite number >= 0, got ${ms}`));
  }
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  const controller = new AbortController();
  let promise: Promise<T>;
  try {
    promise = typeof work === 'function' ? work(controller.signal) : work;
  } catch (err) {
    return Promise.reject(err);
  }

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!finish()) return;
      const reason = abortReason(signal!);
      controller.abort(reason);
      reject(reason);
    };
    const timer = setTimeout(() => {
      if (!finish()) return;
      const err = new TimeoutError(what, ms, options.retriable ?? false);
      controller.abort(err);
      reject(err);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });

    promise.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
  });
}
