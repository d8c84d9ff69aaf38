/** What the benchmarks share: reading their settings from the environment, timing and printing. */

/** A positive number from the environment variable `name`, else `dflt`; throws naming the variable. */
export function positiveFromEnv(name: string, dflt: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
}

/** The phases `TIDEMARK_BENCH_PHASES` (comma-separated) names, all of `known` by default; throws on an unknown one. */
export function phasesFromEnv(known: readonly string[], env: NodeJS.ProcessEnv = process.env): Set<string> {
  const phases = new Set((env['TIDEMARK_BENCH_PHASES'] ?? known.join(',')).split(','));
  for (const p of phases) {
    if (!known.includes(p))
      throw new RangeError(`TIDEMARK_BENCH_PHASES: unknown phase ${p} (${known.join(', ')})`);
  }
  return phases;
}

export const MB = 1e6;
export const hr = (): bigint => process.hrtime.bigint();
/** A progress line on stderr, stamped with the time of day. */
export const log = (m: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
/** `x` with `d` decimals, `?` when not finite. */
export const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '?');
