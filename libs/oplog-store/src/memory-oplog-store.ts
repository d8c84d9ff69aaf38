import {
  compareOpTime,
  type OpTime,
  type OplogSliceMeta,
  type OplogStore,
  type SliceMeta,
  type StoredSlice,
  type StoredSliceTotals,
} from '@tidemark/domain';

/** A real in-memory oplog store (for unit tests), held to the same contract suite as the MongoDB one. */
export class MemoryOplogStore implements OplogStore {
  private readonly slices = new Map<string, StoredSlice>();

  async put(meta: SliceMeta, payload: Buffer): Promise<'stored' | 'duplicate'> {
    if (this.slices.has(meta.sliceId)) return 'duplicate';
    this.slices.set(meta.sliceId, { meta: structuredClone(meta), payload: Buffer.from(payload) });
    return 'stored';
  }

  async get(sliceId: string): Promise<StoredSlice | undefined> {
    const s = this.slices.get(sliceId);
    return s && { meta: structuredClone(s.meta), payload: Buffer.from(s.payload) };
  }

  async getMeta(sliceId: string): Promise<SliceMeta | undefined> {
    const s = this.slices.get(sliceId);
    return s && structuredClone(s.meta);
  }

  private oplog(jobId: string, syncId: string): OplogSliceMeta[] {
    return [...this.slices.values()]
      .map((s) => s.meta)
      .filter((m): m is OplogSliceMeta => m.kind === 'oplog' && m.jobId === jobId && m.syncId === syncId);
  }

  async findCovering(jobId: string, syncId: string, p: OpTime): Promise<OplogSliceMeta | undefined> {
    const covering = this.oplog(jobId, syncId)
      .filter((m) => compareOpTime(m.prevTs, p) <= 0 && compareOpTime(p, m.lastTs) < 0)
      .sort((a, b) => compareOpTime(b.lastTs, a.lastTs));
    return covering[0] && structuredClone(covering[0]);
  }

  async latestOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    let best: OpTime | undefined;
    for (const m of this.oplog(jobId, syncId))
      if (!best || compareOpTime(m.lastTs, best) > 0) best = m.lastTs;
    return best && { ...best };
  }

  async oldestOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    let best: OpTime | undefined;
    for (const m of this.oplog(jobId, syncId))
      if (!best || compareOpTime(m.prevTs, best) < 0) best = m.prevTs;
    return best && { ...best };
  }

  async deleteOplogThrough(jobId: string, syncId: string, ts: OpTime): Promise<number> {
    let n = 0;
    for (const m of this.oplog(jobId, syncId))
      if (compareOpTime(m.lastTs, ts) <= 0 && this.slices.delete(m.sliceId)) n++;
    return n;
  }

  async countEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number> {
    return this.oplog(jobId, syncId)
      .filter((m) => m.firstTs !== undefined && compareOpTime(m.firstTs, p) > 0)
      .reduce((n, m) => n + m.docCount, 0);
  }

  async list(jobId: string, syncId: string, kind: SliceMeta['kind']): Promise<SliceMeta[]> {
    return [...this.slices.values()]
      .map((s) => s.meta)
      .filter((m) => m.jobId === jobId && m.syncId === syncId && m.kind === kind)
      .map((m) => structuredClone(m));
  }

  async storedTotals(jobId: string, syncId: string): Promise<StoredSliceTotals> {
    let slices = 0;
    let bytes = 0;
    for (const s of this.slices.values()) {
      if (s.meta.jobId !== jobId || s.meta.syncId !== syncId) continue;
      slices += 1;
      bytes += s.meta.compressedBytes;
    }
    return { slices, bytes };
  }

  async deleteSync(jobId: string, syncId: string): Promise<void> {
    for (const [id, s] of this.slices)
      if (s.meta.jobId === jobId && s.meta.syncId === syncId) this.slices.delete(id);
  }
}
