/**
 * A real in-memory {@link SnapshotStore} (one process), held to the same contract suite as the other backends
 * (`snapshot-store.contract.ts`). For unit specs: the lock's expiry follows an injectable clock, and a few spec-only
 * helpers damage or inspect blocks.
 */
import { BlockMissingError } from './snapshot-errors';
import type {
  BlockToStore,
  SnapshotRecord,
  SnapshotStore,
  StoreKind,
  StoreLockGrant,
} from './snapshot-store';

interface JobData {
  readonly blocks: Map<string, Uint8Array>;
  readonly records: Map<string, SnapshotRecord>;
  lock?: { owner: string; expiresAt: number };
}

export class MemorySnapshotStore implements SnapshotStore {
  private readonly jobs = new Map<string, JobData>();

  /**
   * @param clock milliseconds since the epoch, for lock expiry
   * @param kind the kind it reports (records name the store kind they were written to)
   */
  constructor(
    private readonly clock: () => number = Date.now,
    readonly kind: StoreKind = 'filesystem',
  ) {}

  private job(jobId: string): JobData {
    let data = this.jobs.get(jobId);
    if (data === undefined) {
      data = { blocks: new Map(), records: new Map() };
      this.jobs.set(jobId, data);
    }
    return data;
  }

  async putBlock(jobId: string, address: string, bytes: Uint8Array): Promise<void> {
    const blocks = this.job(jobId).blocks;
    if (!blocks.has(address)) blocks.set(address, Uint8Array.from(bytes));
  }

  async putBlocks(jobId: string, blocks: readonly BlockToStore[]): Promise<void> {
    for (const block of blocks) await this.putBlock(jobId, block.address, block.bytes);
  }

  async hasBlocks(jobId: string, addresses: readonly string[]): Promise<Set<string>> {
    const blocks = this.jobs.get(jobId)?.blocks;
    return new Set(addresses.filter((a) => blocks?.has(a) === true));
  }

  async hasBlock(jobId: string, address: string): Promise<boolean> {
    return this.jobs.get(jobId)?.blocks.has(address) ?? false;
  }

  async getBlock(jobId: string, address: string): Promise<Uint8Array> {
    const bytes = this.jobs.get(jobId)?.blocks.get(address);
    if (bytes === undefined) throw new BlockMissingError(jobId, address, this.blockLocation(jobId, address));
    return Uint8Array.from(bytes);
  }

  async deleteBlock(jobId: string, address: string): Promise<void> {
    this.jobs.get(jobId)?.blocks.delete(address);
  }

  async deleteBlocks(jobId: string, addresses: readonly string[]): Promise<{ bytes: number }> {
    let bytes = 0;
    for (const address of addresses) {
      bytes += this.jobs.get(jobId)?.blocks.get(address)?.length ?? 0;
      await this.deleteBlock(jobId, address);
    }
    return { bytes };
  }

  async *listBlocks(jobId: string): AsyncIterable<string> {
    yield* [...(this.jobs.get(jobId)?.blocks.keys() ?? [])];
  }

  blockLocation(jobId: string, address: string): string {
    return `memory:${jobId}/blocks/${address}`;
  }

  async putSnapshot(record: SnapshotRecord): Promise<void> {
    this.job(record.manifest.jobId).records.set(record.manifest.snapshotId, structuredClone(record));
  }

  async getSnapshot(jobId: string, snapshotId: string): Promise<SnapshotRecord | undefined> {
    const record = this.jobs.get(jobId)?.records.get(snapshotId);
    return record === undefined ? undefined : structuredClone(record);
  }

  async listSnapshots(jobId: string): Promise<SnapshotRecord[]> {
    const records = [...(this.jobs.get(jobId)?.records.values() ?? [])];
    return records
      .sort((a, b) => b.manifest.takenAt.getTime() - a.manifest.takenAt.getTime())
      .map((r) => structuredClone(r));
  }

  async deleteSnapshot(jobId: string, snapshotId: string): Promise<void> {
    this.jobs.get(jobId)?.records.delete(snapshotId);
  }

  async acquireLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    const data = this.job(jobId);
    const now = this.clock();
    if (data.lock !== undefined && data.lock.owner !== owner && data.lock.expiresAt > now) return undefined;
    data.lock = { owner, expiresAt: now + ttlMs };
    return { jobId, owner, expiresAt: new Date(data.lock.expiresAt) };
  }

  async renewLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    const data = this.jobs.get(jobId);
    const now = this.clock();
    // An expired lock is lost even if nobody took it yet: work under it may already have been raced.
    if (data?.lock === undefined || data.lock.owner !== owner || data.lock.expiresAt <= now) return undefined;
    data.lock = { owner, expiresAt: now + ttlMs };
    return { jobId, owner, expiresAt: new Date(data.lock.expiresAt) };
  }

  async releaseLock(jobId: string, owner: string): Promise<void> {
    const data = this.jobs.get(jobId);
    if (data?.lock?.owner === owner) delete data.lock;
  }

  async deleteJob(jobId: string): Promise<void> {
    this.jobs.delete(jobId);
  }

  // Spec helpers (not part of the port).

  /** Replaces a stored block's bytes (to simulate damage). Throws when there is no such block. */
  damageBlock(jobId: string, address: string, damage: (bytes: Uint8Array) => Uint8Array): void {
    const blocks = this.jobs.get(jobId)?.blocks;
    const bytes = blocks?.get(address);
    if (blocks === undefined || bytes === undefined) throw new Error(`no block ${address} of job ${jobId}`);
    blocks.set(address, damage(Uint8Array.from(bytes)));
  }

  /** Number of blocks and their total bytes. */
  blockStats(jobId: string): { blocks: number; bytes: number } {
    const blocks = [...(this.jobs.get(jobId)?.blocks.values() ?? [])];
    return { blocks: blocks.length, bytes: blocks.reduce((sum, b) => sum + b.length, 0) };
  }

  /** The lock's holder, if any (expired or not). */
  lockHolder(jobId: string): string | undefined {
    return this.jobs.get(jobId)?.lock?.owner;
  }
}
