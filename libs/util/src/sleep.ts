/**
 * `sleep(ms, signal?)`: a promise that resolves after `ms` milliseconds (Node's `timers/promises` `setTimeout`).
 *
 * With a signal, an abort rejects at once with the signal's reason (an `AbortError` `DOMException` unless the
 * caller gave another) and clears the timer, so a stopping process is never held up by a pending sleep. Node's own
 * rejection is a generic `AbortError` with the reason as `cause`; callers match on the reason, hence this wrapper.
 */
import { setTimeout as delay } from 'node:timers/promises';

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`sleep: ms must be a finite number >= 0, got ${ms}`);
  }
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? abortReason(signal) : err;
  }
}

/** The reason an aborted signal carries (Node sets an `AbortError` `DOMException` when none was given). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
