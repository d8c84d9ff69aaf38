/**
 * `sleep(ms, signal?)`: a promise that resolves after `ms` milliseconds.
 *
 * With a signal, an abort rejects at once with the signal's reason (an `AbortError` `DOMException` unless the
 * caller gave another) and clears the timer, so a stopping process is never held up by a pending sleep.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!Number.isFinite(ms) || ms < 0) {
    return Promise.reject(new RangeError(`sleep: ms must be a finite number >= 0, got ${ms}`));
  }
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason an aborted signal carries (Node sets an `AbortError` `DOMException` when none was given). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
