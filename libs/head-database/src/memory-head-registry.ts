import {
  compareOpTime,
  type HeadCatalog,
  type HeadMark,
  type HeadRecord,
  type HeadRegistry,
  type OpTime,
  type SliceOrigin,
} from '@tidemark/domain';

/** A real in-memory HeadRegistry for unit tests, held to the same contract suite as the MongoDB one. */
export class MemoryHeadRegistry implements HeadRegistry {
  private readonly heads = new Map<string, HeadRecord>();
  private readonly databases = new Map<string, Set<string>>();
  private readonly built = new Map<
    string,
    { jobId: string; syncId: string; origin: SliceOrigin; ns: string }
  >();

  private head(jobId: string, syncId: string, syncNo?: number): HeadRecord {
    const id = `${jobId}/${syncId}`;
    let h = this.heads.get(id);
    if (!h) {
      h = { jobId, syncId, syncNo: syncNo ?? 0, recordsDatabases: true };
      this.heads.set(id, h);
    }
    return h;
  }

  async get(jobId: string, syncId: string): Promise<HeadRecord | undefined> {
    const h = this.heads.get(`${jobId}/${syncId}`);
    return h && structuredClone(h);
  }

  async recordDatabase(jobId: string, syncId: string, headDb: string): Promise<void> {
    const id = `${jobId}/${syncId}`;
    let dbs = this.databases.get(id);
    if (!dbs) this.databases.set(id, (dbs = new Set()));
    dbs.add(headDb);
  }

  async recordedDatabases(jobId: string, syncId: string): Promise<string[] | undefined> {
    const id = `${jobId}/${syncId}`;
    if (this.heads.get(id)?.recordsDatabases !== true) return undefined;
    return [...(this.databases.get(id) ?? [])].sort();
  }

  async listForJob(jobId: string): Promise<HeadRecord[]> {
    return [...this.heads.values()].filter((h) => h.jobId === jobId).map((h) => structuredClone(h));
  }

  async recordScanCatalog(
    jobId: string,
    syncId: string,
    syncNo: number,
    catalog: HeadCatalog,
  ): Promise<void> {
    const h = this.head(jobId, syncId, syncNo);
    h.syncNo = syncNo;
    h.scan = structuredClone(catalog);
    if (!h.appliedTs) {
      h.appliedTs = { ...catalog.startTs };
      h.appliedAt = new Date();
    }
  }

  async recordMissingCatalog(
    jobId: string,
    syncId: string,
    namespaces: NonNullable<HeadRecord['missing']>['namespaces'],
  ) {
    this.head(jobId, syncId).missing = { namespaces: structuredClone(namespaces) };
  }

  async markBuilt(sliceId: string, info: { jobId: string; syncId: string; origin: SliceOrigin; ns: string }) {
    this.built.set(sliceId, { ...info });
  }

  async isBuilt(sliceId: string): Promise<boolean> {
    return this.built.has(sliceId);
  }

  async countBuilt(jobId: string, syncId: string, origin: SliceOrigin): Promise<number> {
    return [...this.built.values()].filter(
      (b) => b.jobId === jobId && b.syncId === syncId && b.origin === origin,
    ).length;
  }

  async mark(jobId: string, syncId: string, mark: HeadMark): Promise<boolean> {
    const h = this.heads.get(`${jobId}/${syncId}`);
    if (!h || h[mark]) return false;
    h[mark] = new Date();
    return true;
  }

  async setAppliedTs(jobId: string, syncId: string, ts: OpTime): Promise<OpTime> {
    const h = this.heads.get(`${jobId}/${syncId}`);
    if (!h) throw new Error(`head ${jobId}/${syncId} has no record`);
    if (!h.appliedTs || compareOpTime(h.appliedTs, ts) < 0) {
      h.appliedTs = { ...ts };
      h.appliedAt = new Date();
    }
    return { ...h.appliedTs };
  }

  async remove(jobId: string, syncId: string): Promise<void> {
    this.heads.delete(`${jobId}/${syncId}`);
    this.databases.delete(`${jobId}/${syncId}`);
    for (const [id, b] of this.built) if (b.jobId === jobId && b.syncId === syncId) this.built.delete(id);
  }
}
