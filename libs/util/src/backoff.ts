/**
 * One backoff policy: how long to wait before attempt `n + 1` after `n` consecutive failures. Every loop that
 * waits between attempts asks a {@link Backoff} (`retry()`, the committing consumer's partitions, the oplog tail,
 * the agent's restarts); the named policies are declared in `backoff-policies.ts`.
 *
 * The cap of the wait after failure `n` (from 1) is `min(maxMs, initialMs * factor^(n-1))`; the wait is drawn below
 * it by the policy's jitter, so replicas that failed together do not retry in step:
 * - `full`: uniform in `[0, cap)`, rounded down (`floor(random * cap)`), as in kafkajs and AWS's "full jitter";
 * - `equal`: uniform in `[cap/2, cap]`, rounded to the nearest ms (`round(cap/2 + random * cap/2)`), so the wait
 *   never collapses to zero.
 */
export type Jitter = 'full' | 'equal';

/** What a {@link Backoff} is made of; `factor` defaults to 2 and `jitter` to `full`. */
export interface BackoffSpec {
  /** Cap of the first wait, ms (finite, >= 0). */
  readonly initialMs: number;
  /** Growth of the cap per consecutive failure (finite, >= 1). Default 2. */
  readonly factor?: number;
  /** Largest cap, ms (finite, >= 0). */
  readonly maxMs: number;
  /** How the wait is drawn below the cap. Default `full`. */
  readonly jitter?: Jitter;
}

export class Backoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly jitter: Jitter;

  /** Throws `RangeError` for a policy that makes no sense (negative or infinite times, a factor below 1). */
  constructor(spec: BackoffSpec) {
    const { initialMs, factor = 2, maxMs, jitter = 'full' } = spec;
    if (!(initialMs >= 0 && Number.isFinite(initialMs))) {
      throw new RangeError(`backoff: initialMs must be a finite number >= 0, got ${initialMs}`);
    }
    if (!(maxMs >= 0 && Number.isFinite(maxMs))) {
      throw new RangeError(`backoff: maxMs must be a finite number >= 0, got ${maxMs}`);
    }
    if (!(factor >= 1 && Number.isFinite(factor))) {
      throw new RangeError(`backoff: factor must be a finite number >= 1, got ${factor}`);
    }
    if (jitter !== 'full' && jitter !== 'equal') {
      throw new RangeError(`backoff: jitter must be 'full' or 'equal', got ${String(jitter)}`);
    }
    this.initialMs = initialMs;
    this.factor = factor;
    this.maxMs = maxMs;
    this.jitter = jitter;
    Object.freeze(this);
  }

  /** The same policy with some numbers changed (tests' short timings, operators' settings). */
  with(changes: Partial<BackoffSpec>): Backoff {
    return new Backoff({ ...this.spec(), ...changes });
  }

  /** The largest wait after `attempt` consecutive failures (from 1), before jitter. */
  capMs(attempt: number): number {
    checkAttempt(attempt);
    if (this.initialMs === 0) return 0; // not 0 * Infinity once factor^(n-1) overflows
    return Math.min(this.maxMs, this.initialMs * this.factor ** (attempt - 1));
  }

  /**
   * The wait after `attempt` consecutive failures (from 1), ms: an integer drawn below {@link capMs} by the
   * jitter. `random` returns a number in `[0, 1)`; tests pass a fixed one.
   */
  delayMs(attempt: number, random: () => number = Math.random): number {
    const cap = this.capMs(attempt);
    const r = random();
    return this.jitter === 'full' ? Math.floor(r * cap) : Math.round(cap / 2 + (r * cap) / 2);
  }

  /** The numbers, for logs and `with`. */
  spec(): Required<BackoffSpec> {
    return { initialMs: this.initialMs, factor: this.factor, maxMs: this.maxMs, jitter: this.jitter };
  }
}

function checkAttempt(attempt: number): void {
  if (!(Number.isSafeInteger(attempt) && attempt >= 1)) {
    throw new RangeError(`backoff: attempt must be an integer >= 1, got ${attempt}`);
  }
}
