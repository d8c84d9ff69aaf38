/**
 * A real in-memory {@link JobBackupData} for unit specs: head records (applied position, namespace mapping) and
 * stored oplog slices per sync, and a log of the syncs whose retained backups were deleted.
 */
import { compareOpTime, syncIdOf, type OpTime, type StoredSliceTotals } from '@tidemark/domain';
import type { HeadFacts, JobBackupData } from './ports';

interface StoredOplogSlice {
  /** Where the slice's range starts (default: its first entry, else its end). */
  readonly prevTs?: OpTime;
  readonly firstTs: OpTime | undefined;
  readonly lastTs: OpTime;
  readonly entries: number;
  /** Stored (compressed) bytes; default 0. */
  readonly bytes?: number;
}

const key = (jobId: string, syncId: string) => `${jobId}/${syncId}`;

export class MemoryBackupData implements JobBackupData {
  private readonly heads = new Map<string, HeadFacts>();
  private readonly slices = new Map<string, StoredOplogSlice[]>();
  /** `<jobId>/<syncNo>` of every `deleteSync` call, in order. */
  readonly deleted: string[] = [];

  setHead(jobId: string, syncId: string, facts: HeadFacts): void {
    this.heads.set(key(jobId, syncId), facts);
  }

  addOplogSlice(jobId: string, syncId: string, slice: StoredOplogSlice): void {
    const k = key(jobId, syncId);
    this.slices.set(k, [...(this.slices.get(k) ?? []), slice]);
  }

  async head(jobId: string, syncId: string): Promise<HeadFacts | undefined> {
    return this.heads.get(key(jobId, syncId));
  }

  async latestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    const last = (this.slices.get(key(jobId, syncId)) ?? []).map((s) => s.lastTs);
    return last.sort((a, b) => compareOpTime(b, a))[0];
  }

  async oldestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    const first = (this.slices.get(key(jobId, syncId)) ?? []).map((s) => s.prevTs ?? s.firstTs ?? s.lastTs);
    return first.sort((a, b) => compareOpTime(a, b))[0];
  }

  async countOplogEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number> {
    return (this.slices.get(key(jobId, syncId)) ?? [])
      .filter((s) => s.firstTs !== undefined && compareOpTime(s.firstTs, p) > 0)
      .reduce((n, s) => n + s.entries, 0);
  }

  async storedSlices(jobId: string, syncId: string): Promise<StoredSliceTotals> {
    const slices = this.slices.get(key(jobId, syncId)) ?? [];
    return { slices: slices.length, bytes: slices.reduce((n, s) => n + (s.bytes ?? 0), 0) };
  }

  async deleteSync(jobId: string, syncNo: number): Promise<void> {
    const syncId = syncIdOf(jobId, syncNo);
    this.heads.delete(key(jobId, syncId));
    this.slices.delete(key(jobId, syncId));
    this.deleted.push(`${jobId}/${syncNo}`);
  }

  /** True when anything is stored for the sync. */
  holds(jobId: string, syncId: string): boolean {
    return this.heads.has(key(jobId, syncId)) || this.slices.has(key(jobId, syncId));
  }
}
