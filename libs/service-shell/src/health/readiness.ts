/**
 * Readiness: every dependency check runs, in parallel, each within the configured time limit. Ready only
 * when all pass; while the application shuts down the answer is "draining" so traffic and new work stop first.
 */
import type { BeforeApplicationShutdown } from '@nestjs/common';
import { withTimeout } from '@tidemark/util';
import type { DependencyCheck } from './dependency-check';

export interface ReadinessReport {
  /** `ready` (HTTP 200), `not-ready` or `draining` (HTTP 503). */
  readonly status: 'ready' | 'not-ready' | 'draining';
  /** `ok`, or the failing check's reason, per dependency. */
  readonly checks: Readonly<Record<string, string>>;
  /** The first failing check as `<name>: <reason>`; absent when ready. */
  readonly reason?: string;
}

export class Readiness implements BeforeApplicationShutdown {
  private draining = false;

  constructor(
    private readonly checks: readonly DependencyCheck[],
    private readonly timeoutMs: number,
  ) {}

  /** Names of the dependencies checked, in order. */
  dependencyNames(): string[] {
    return this.checks.map((c) => c.name);
  }

  async evaluate(): Promise<ReadinessReport> {
    if (this.draining) return { status: 'draining', checks: {}, reason: 'shutting down' };
    const results = await Promise.all(
      this.checks.map(async (c): Promise<[string, string]> => {
        try {
          await withTimeout(() => c.run(), this.timeoutMs, `${c.name} check`);
          return [c.name, 'ok'];
        } catch (err) {
          return [c.name, reasonOf(err)];
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const failed = results.find(([, r]) => r !== 'ok');
    return failed === undefined
      ? { status: 'ready', checks }
      : { status: 'not-ready', checks, reason: `${failed[0]}: ${failed[1]}` };
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
