/**
 * An integer setting read from the environment, in `[min, max]`: `fallback` when the variable is unset or blank,
 * otherwise the number it holds, and when that is not an integer in range, the error `invalid` makes of a message
 * that names the variable, the range and the value (each caller raises its own configuration error type).
 */
export function integerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  range: { readonly fallback: number; readonly min: number; readonly max: number },
  invalid: (message: string) => Error,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return range.fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw invalid(`${name} must be an integer in [${range.min}, ${range.max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}
