/**
 * Polls `probe` every `intervalMs` (default 200 ms) until it returns a value other than `undefined` or `false`, and
 * returns that value; fails naming `what` after `timeoutMs`, with `seen()` (what the probe last saw) when given.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  options: { readonly intervalMs?: number; readonly seen?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const seen = options.seen === undefined ? '' : `: ${options.seen()}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}
