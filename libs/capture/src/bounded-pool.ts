/**
 * Runs `work` for every item with at most `concurrency` running at once (never a `Promise.all` over an unbounded
 * list). On the first failure no new item starts, the running ones are told to stop through their signal, and
 * once they settled the first failure is thrown.
 */
import { abortReason } from '@tidemark/util';

export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  const inner = new AbortController();
  const onAbort = (): void => inner.abort(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && !inner.signal.aborted && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item, inner.signal);
      } catch (error) {
        failure ??= { error };
        inner.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure.error;
  if (signal?.aborted) throw abortReason(signal);
}
