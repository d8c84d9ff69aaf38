/**
 * `ApplyFenceHolder`: fences the oplog-applier off one job's head while a snapshot reads it (docs/format.md,
 * "Snapshot fence"), built on what already keeps two appliers apart, the job's apply lease `apply:<jobId>`.
 *
 * - `hold` writes a fence request (`FenceStore`), which the `ApplyScheduler` honours by finishing its running turn
 *   of the job and releasing the lease, then tries to `acquire` that lease under the fence's owner, polling
 *   (`APPLY_FENCE_WAIT`) until it has it or `waitMs` has passed. Once it holds the lease no apply turn of the job
 *   runs and none can start: that is the lease store's guarantee, not the request's. When the wait runs out it
 *   withdraws its request and resolves `undefined`. Two holders exclude each other: the second cannot write its
 *   request while the first's stands, and could not take the lease anyway.
 * - `renew` extends both; `undefined` when either was lost (then it gives up what is left: the snapshot must stop).
 * - `release` releases the lease, then withdraws the request, so applying resumes at the scheduler's next tick.
 *
 * A holder that dies leaves both to expire after their TTL, and applying resumes then. The grant's `expiresAt` is
 * the earlier of the two expiries. Times are the owners' clocks, as for leases.
 *
 * The `ApplyFence` port of `@tidemark/snapshots` is implemented over this by `MongoApplyFence`
 * (`@tidemark/head-database-mongo`); this feature cannot import another feature's port, so the grant is declared here
 * with the same shape.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { APPLY_FENCE_WAIT, type Backoff } from '@tidemark/util';
import { applyLeaseName } from './apply-scheduler';
import type { FenceStore, LeaseStore } from './ports';

/** A held fence: the job's apply lease and its fence request, both `owner`'s, until `expiresAt` unless renewed. */
export interface FenceGrant {
  readonly jobId: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

export interface ApplyFenceHolderOptions {
  /** Waits between tries while the applier lets go. Default `APPLY_FENCE_WAIT`. */
  readonly wait?: Backoff;
  readonly clock?: () => number;
}

export class ApplyFenceHolder {
  private readonly wait: Backoff;
  private readonly clock: () => number;

  constructor(
    private readonly ports: { readonly leases: LeaseStore; readonly fences: FenceStore },
    options: ApplyFenceHolderOptions = {},
  ) {
    this.wait = options.wait ?? APPLY_FENCE_WAIT;
    this.clock = options.clock ?? Date.now;
  }

  async hold(jobId: string, owner: string, ttlMs: number, waitMs: number): Promise<FenceGrant | undefined> {
    if (!(Number.isSafeInteger(ttlMs) && ttlMs > 0)) throw new RangeError(`fence TTL ${ttlMs} ms is not > 0`);
    const deadline = this.clock() + Math.max(0, waitMs);
    let requested = false;
    try {
      for (let attempt = 1; ; attempt++) {
        // Written again each try (extending it), so a wait longer than the TTL keeps the request standing.
        const request = await this.ports.fences.request(jobId, owner, ttlMs);
        if (request !== undefined) {
          requested = true;
          const lease = await this.ports.leases.acquire(applyLeaseName(jobId), owner, ttlMs);
          if (lease !== undefined) return grant(jobId, owner, lease.expiresAt, request.expiresAt);
        }
        const left = deadline - this.clock();
        if (left <= 0) {
          if (requested) await this.ports.fences.withdraw(jobId, owner);
          return undefined;
        }
        await sleep(Math.min(left, Math.max(1, this.wait.delayMs(attempt))));
      }
    } catch (err) {
      // Leave nothing standing that would keep the applier off the job until it expires.
      if (requested) await this.release(jobId, owner).catch(() => undefined);
      throw err;
    }
  }

  async renew(jobId: string, owner: string, ttlMs: number): Promise<FenceGrant | undefined> {
    const lease = await this.ports.leases.renew(applyLeaseName(jobId), owner, ttlMs);
    const request = await this.ports.fences.renew(jobId, owner, ttlMs);
    if (lease !== undefined && request !== undefined)
      return grant(jobId, owner, lease.expiresAt, request.expiresAt);
    await this.release(jobId, owner);
    return undefined;
  }

  async release(jobId: string, owner: string): Promise<void> {
    await this.ports.leases.release(applyLeaseName(jobId), owner);
    await this.ports.fences.withdraw(jobId, owner);
  }
}

function grant(jobId: string, owner: string, leaseExpiry: Date, requestExpiry: Date): FenceGrant {
  const expiresAt = leaseExpiry.getTime() <= requestExpiry.getTime() ? leaseExpiry : requestExpiry;
  return { jobId, owner, expiresAt: new Date(expiresAt.getTime()) };
}
