/**
 * A limit on guessing API keys: failed authentications (a malformed token, an unknown key id, a wrong secret;
 * not a revoked key, which cannot authenticate whatever its secret) are counted per client address and per key
 * id in a sliding window; a subject with `maxFailures` failures inside the last `windowMs` is refused (429) until
 * the oldest of them leaves the window. The check is made before the key is looked up or any scrypt work is done
 * (`AccessService.authenticate`), and only for credentials that are not already trusted (the admin key, the
 * service token and a key whose secret passed scrypt recently skip it), so callers with valid keys are not
 * slowed. In memory, per process (each job-state replica counts on its own); at most `maxSubjects` subjects are
 * tracked, the least recently failed forgotten first.
 */

export interface KeyGuessLimits {
  /** Failures allowed per subject inside the window; the next attempt is refused. */
  readonly maxFailures: number;
  readonly windowMs: number;
}

export const DEFAULT_KEY_GUESS_LIMITS: KeyGuessLimits = Object.freeze({ maxFailures: 20, windowMs: 60_000 });
const DEFAULT_MAX_SUBJECTS = 10_000;

/** Who an attempt is counted against: the client's address and, when the credential names one, a key id. */
export interface GuessSubjects {
  readonly address: string | undefined;
  readonly keyId: string | undefined;
}

export class KeyGuessLimiter {
  /** subject -> times of its failures inside the window, oldest first (at most maxFailures). */
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly limits: KeyGuessLimits = DEFAULT_KEY_GUESS_LIMITS,
    private readonly maxSubjects: number = DEFAULT_MAX_SUBJECTS,
  ) {
    if (!Number.isInteger(limits.maxFailures) || limits.maxFailures < 1)
      throw new RangeError(`maxFailures must be a positive integer, not ${limits.maxFailures}`);
    if (!Number.isInteger(limits.windowMs) || limits.windowMs < 1)
      throw new RangeError(`windowMs must be a positive integer, not ${limits.windowMs}`);
  }

  /** Milliseconds until an attempt for these subjects is allowed; 0: now. */
  retryAfterMs(subjects: GuessSubjects, nowMs: number): number {
    let wait = 0;
    for (const subject of subjectKeys(subjects)) {
      const times = this.inWindow(subject, nowMs);
      if (times.length >= this.limits.maxFailures)
        wait = Math.max(wait, times[times.length - this.limits.maxFailures]! + this.limits.windowMs - nowMs);
    }
    return wait;
  }

  /** Counts one failed authentication against each subject. */
  recordFailure(subjects: GuessSubjects, nowMs: number): void {
    for (const subject of subjectKeys(subjects)) {
      const times = this.inWindow(subject, nowMs);
      times.push(nowMs);
      if (times.length > this.limits.maxFailures) times.splice(0, times.length - this.limits.maxFailures);
      this.failures.delete(subject); // re-inserted last: the map's order is least recently failed first
      this.failures.set(subject, times);
      while (this.failures.size > this.maxSubjects) {
        const oldest = this.failures.keys().next();
        if (oldest.done) break;
        this.failures.delete(oldest.value);
      }
    }
  }

  /** How many subjects are tracked now (for specs and metrics). */
  get trackedSubjects(): number {
    return this.failures.size;
  }

  private inWindow(subject: string, nowMs: number): number[] {
    const times = this.failures.get(subject);
    if (times === undefined) return [];
    const from = nowMs - this.limits.windowMs;
    while (times.length > 0 && times[0]! <= from) times.shift();
    if (times.length === 0) this.failures.delete(subject);
    return times;
  }
}

function subjectKeys(subjects: GuessSubjects): string[] {
  const keys: string[] = [];
  if (subjects.address !== undefined && subjects.address !== '') keys.push(`address:${subjects.address}`);
  if (subjects.keyId !== undefined && subjects.keyId !== '') keys.push(`key:${subjects.keyId}`);
  return keys;
}
