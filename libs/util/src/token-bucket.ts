/**
 * A token bucket that paces a reader to a rate (units per second, e.g. bytes): the reader counts what it read with
 * {@link TokenBucket.take}, which resolves once the reader may go on.
 *
 * - **Rate.** Tokens accrue at `rate` per second, continuously. `take(n)` removes `n` tokens at once, even more
 *   than there are (the bucket goes into debt), then waits until the balance is back at zero or above. So one item
 *   larger than the burst (a 16 MB document under a 1 MB/s rate) still passes, and the reader then waits as long as
 *   reading it should have taken: over any stretch of time the units taken are at most `rate × time + burst`.
 * - **Burst.** While the reader is idle or slower than the rate, tokens are saved up to `burst` (default one second
 *   of the rate) and no more, so a reader coming back from idle cannot exceed the rate by more than that.
 * - **Starts empty.** A new bucket holds no tokens and saves none before its first `take`, and a bucket that goes
 *   from unlimited to limited holds none either: the first read is already paced, however long the bucket existed.
 * - **Changing the rate** (`setRate`) applies at once, to waiting readers too: a wait sleeps at most `maxSleepMs`
 *   (default 100 ms) before it looks at the rate again. Time before the change accrued at the old rate. `undefined`
 *   means unlimited: `take` resolves at once and waiting readers go on.
 * - Several readers may share one bucket (one job's concurrent scans): together they keep to the rate.
 * - Aborting the signal given to `take` rejects it with the signal's reason.
 *
 * The clock and the sleep are injectable for specs.
 */
import { sleep as realSleep } from './sleep';

export interface TokenBucketOptions {
  /** Units per second, finite and > 0; undefined: unlimited. */
  readonly rate: number | undefined;
  /** Most tokens saved up, in seconds of the rate. Default 1; must be > 0. */
  readonly burstSeconds?: number;
  /** Longest single sleep while waiting, ms (a changed rate is seen within it). Default 100. */
  readonly maxSleepMs?: number;
  /** Milliseconds now (monotonic is best). Default `performance.now()`. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Throws a RangeError unless `rate` is undefined or a finite number > 0. */
export function checkRate(rate: number | undefined): void {
  if (rate !== undefined && !(typeof rate === 'number' && Number.isFinite(rate) && rate > 0)) {
    throw new RangeError(`a token bucket's rate must be a finite number > 0 (or unlimited), got ${rate}`);
  }
}

export class TokenBucket {
  private current: number | undefined;
  private tokens = 0;
  /** When tokens were last added; undefined before the first `take` (nothing accrues before it). */
  private last: number | undefined;
  private readonly burstSeconds: number;
  private readonly maxSleepMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: TokenBucketOptions) {
    checkRate(options.rate);
    const burst = options.burstSeconds ?? 1;
    if (!(Number.isFinite(burst) && burst > 0))
      throw new RangeError(`burstSeconds must be > 0, got ${burst}`);
    this.current = options.rate;
    this.burstSeconds = burst;
    this.maxSleepMs = options.maxSleepMs ?? 100;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? realSleep;
  }

  /** Units per second; undefined when unlimited. */
  get rate(): number | undefined {
    return this.current;
  }

  /** True when a rate applies (callers in a hot loop may skip `take` otherwise). */
  get limited(): boolean {
    return this.current !== undefined;
  }

  /** The most tokens the bucket saves up (0 when unlimited). */
  get burst(): number {
    return this.current === undefined ? 0 : this.current * this.burstSeconds;
  }

  /** Changes the rate (see the module comment); throws a RangeError for zero, a negative rate, NaN or Infinity. */
  setRate(rate: number | undefined): void {
    checkRate(rate);
    if (this.last !== undefined) this.refill();
    if (this.current === undefined || rate === undefined) this.tokens = 0;
    this.current = rate;
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /**
   * Counts `units` as taken; resolves at once while the balance stays >= 0, else once it is back there. Resolves
   * whether the reader had to wait (it was held to the rate).
   */
  async take(units: number, signal?: AbortSignal): Promise<boolean> {
    if (!(Number.isFinite(units) && units >= 0))
      throw new RangeError(`take: units must be a finite number >= 0, got ${units}`);
    if (this.current === undefined) return false;
    this.refill();
    this.tokens -= units;
    let waited = false;
    while (this.tokens < 0 && this.current !== undefined) {
      const waitMs = Math.min(this.maxSleepMs, (-this.tokens / this.current) * 1000);
      await this.sleep(Math.max(1, Math.ceil(waitMs)), signal);
      waited = true;
      this.refill();
    }
    return waited;
  }

  private refill(): void {
    const now = this.now();
    const last = this.last;
    this.last = now;
    if (last === undefined || this.current === undefined) return;
    const elapsedMs = Math.max(0, now - last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.current) / 1000);
  }
}
