/**
 * In-memory {@link HeadSource} and {@link ApplyFence} for unit specs: a head is a map of namespaces to raw BSON
 * documents (kept in `_id` order by the spec) plus an applied position; the fence records its holder with an
 * expiry by an injectable clock, and {@link MemoryApplyFence.tryApply} is how a spec's "applier" asks to apply.
 */
import type { OpTime } from '@tidemark/domain';
import type {
  AppliedPosition,
  ApplyFence,
  ApplyFenceGrant,
  HeadNamespaceInfo,
  HeadSource,
} from './head-source';
import type { IndexSpec } from './manifest';

interface MemoryHead {
  applied?: AppliedPosition;
  catalog?: readonly string[];
  readonly namespaces: Map<string, { info: HeadNamespaceInfo; documents: Uint8Array[] }>;
}

export class MemoryHeadSource implements HeadSource {
  private readonly heads = new Map<string, MemoryHead>();

  private head(jobId: string, syncId: string): MemoryHead {
    const key = `${jobId}/${syncId}`;
    let head = this.heads.get(key);
    if (head === undefined) {
      head = { namespaces: new Map() };
      this.heads.set(key, head);
    }
    return head;
  }

  /** Sets a namespace's documents (in `_id` order), options and indexes. */
  setNamespace(
    jobId: string,
    syncId: string,
    namespace: string,
    documents: Uint8Array[],
    options: Record<string, unknown> = {},
    indexes: IndexSpec[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }],
  ): void {
    this.head(jobId, syncId).namespaces.set(namespace, { info: { namespace, options, indexes }, documents });
  }

  /** Sets what `catalogNamespaces` answers (by default it answers nothing, as a head without catalogs would). */
  setCatalog(jobId: string, syncId: string, namespaces: readonly string[]): void {
    this.head(jobId, syncId).catalog = [...namespaces];
  }

  setApplied(jobId: string, syncId: string, opTime: OpTime, wallTime?: Date): void {
    this.head(jobId, syncId).applied = { opTime, ...(wallTime === undefined ? {} : { wallTime }) };
  }

  async listNamespaces(jobId: string, syncId: string): Promise<HeadNamespaceInfo[]> {
    return [...this.head(jobId, syncId).namespaces.values()]
      .map((ns) => ns.info)
      .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  }

  async catalogNamespaces(jobId: string, syncId: string): Promise<readonly string[]> {
    return this.head(jobId, syncId).catalog ?? [];
  }

  async *documents(jobId: string, syncId: string, namespace: string): AsyncIterable<Uint8Array> {
    for (const doc of this.head(jobId, syncId).namespaces.get(namespace)?.documents ?? []) yield doc;
  }

  async appliedPosition(jobId: string, syncId: string): Promise<AppliedPosition | undefined> {
    return this.head(jobId, syncId).applied;
  }
}

export class MemoryApplyFence implements ApplyFence {
  private readonly fences = new Map<string, { owner: string; expiresAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async hold(
    jobId: string,
    owner: string,
    ttlMs: number,
    _waitMs: number,
  ): Promise<ApplyFenceGrant | undefined> {
    const current = this.fences.get(jobId);
    if (current !== undefined && current.owner !== owner && current.expiresAt > this.clock())
      return undefined;
    return this.grant(jobId, owner, ttlMs);
  }

  async renew(jobId: string, owner: string, ttlMs: number): Promise<ApplyFenceGrant | undefined> {
    const current = this.fences.get(jobId);
    if (current === undefined || current.owner !== owner || current.expiresAt <= this.clock())
      return undefined;
    return this.grant(jobId, owner, ttlMs);
  }

  async release(jobId: string, owner: string): Promise<void> {
    if (this.fences.get(jobId)?.owner === owner) this.fences.delete(jobId);
  }

  /** True when the job's applier may apply now (no live fence); what a spec's applier asks before each turn. */
  tryApply(jobId: string): boolean {
    const current = this.fences.get(jobId);
    return current === undefined || current.expiresAt <= this.clock();
  }

  /** Drops the fence as if it were lost (spec helper). */
  revoke(jobId: string): void {
    this.fences.delete(jobId);
  }

  private grant(jobId: string, owner: string, ttlMs: number): ApplyFenceGrant {
    const expiresAt = this.clock() + ttlMs;
    this.fences.set(jobId, { owner, expiresAt });
    return { jobId, owner, expiresAt: new Date(expiresAt) };
  }
}
