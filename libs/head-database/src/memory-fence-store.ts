/** A real in-memory {@link FenceStore} (one process), held to the same contract suite as the MongoDB one. */
import type { FenceRequest, FenceStore } from './ports';

export class MemoryFenceStore implements FenceStore {
  private readonly fences = new Map<string, { owner: string; expiresAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async request(jobId: string, owner: string, ttlMs: number): Promise<FenceRequest | undefined> {
    const now = this.clock();
    const fence = this.fences.get(jobId);
    if (fence !== undefined && fence.owner !== owner && fence.expiresAt >= now) return undefined;
    return this.set(jobId, owner, now + ttlMs);
  }

  async renew(jobId: string, owner: string, ttlMs: number): Promise<FenceRequest | undefined> {
    if (this.fences.get(jobId)?.owner !== owner) return undefined;
    return this.set(jobId, owner, this.clock() + ttlMs);
  }

  async withdraw(jobId: string, owner: string): Promise<void> {
    if (this.fences.get(jobId)?.owner === owner) this.fences.delete(jobId);
  }

  async current(jobId: string): Promise<FenceRequest | undefined> {
    const fence = this.fences.get(jobId);
    if (fence === undefined || fence.expiresAt < this.clock()) return undefined;
    return { jobId, owner: fence.owner, expiresAt: new Date(fence.expiresAt) };
  }

  private set(jobId: string, owner: string, expiresAt: number): FenceRequest {
    this.fences.set(jobId, { owner, expiresAt });
    return { jobId, owner, expiresAt: new Date(expiresAt) };
  }
}
