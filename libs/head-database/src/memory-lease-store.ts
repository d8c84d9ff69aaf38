/** A real in-memory {@link LeaseStore} (one process), held to the same contract suite as the MongoDB one. */
import type { LeaseGrant, LeaseStore } from './ports';

export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const now = this.clock();
    const lease = this.leases.get(name);
    if (lease !== undefined && lease.owner !== owner && lease.expiresAt >= now) return undefined;
    return this.grant(name, owner, now + ttlMs);
  }

  async renew(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    if (this.leases.get(name)?.owner !== owner) return undefined;
    return this.grant(name, owner, this.clock() + ttlMs);
  }

  async release(name: string, owner: string): Promise<void> {
    if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
  }

  /** The current holder, for specs. */
  holder(name: string): string | undefined {
    return this.leases.get(name)?.owner;
  }

  private grant(name: string, owner: string, expiresAt: number): LeaseGrant {
    this.leases.set(name, { owner, expiresAt });
    return { name, owner, expiresAt: new Date(expiresAt) };
  }
}
