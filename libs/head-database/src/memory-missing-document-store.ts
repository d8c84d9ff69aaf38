/** A real in-memory {@link MissingDocumentStore}, held to the same contract suite as the MongoDB one. */
import type { MissingDocumentRecord, MissingDocumentStore } from './ports';

const key = (jobId: string, syncId: string, ns: string, id: string) =>
  JSON.stringify([jobId, syncId, ns, id]);

interface Stored extends MissingDocumentRecord {
  readonly jobId: string;
  readonly syncId: string;
}

export class MemoryMissingDocumentStore implements MissingDocumentStore {
  private readonly records = new Map<string, Stored>();

  async record(jobId: string, syncId: string, docs: readonly MissingDocumentRecord[]): Promise<void> {
    for (const doc of docs) {
      this.records.set(key(jobId, syncId, doc.sourceNs, doc.id), {
        ...doc,
        ts: { ...doc.ts },
        jobId,
        syncId,
      });
    }
  }

  async count(jobId: string, syncId: string): Promise<number> {
    return this.of(jobId, syncId).length;
  }

  async namespaces(jobId: string, syncId: string): Promise<string[]> {
    return [...new Set(this.of(jobId, syncId).map((r) => r.sourceNs))].sort();
  }

  async *ids(jobId: string, syncId: string, ns: string): AsyncIterable<string> {
    const ids = this.of(jobId, syncId)
      .filter((r) => r.sourceNs === ns)
      .map((r) => r.id)
      .sort();
    yield* ids;
  }

  async deleteSync(jobId: string, syncId: string): Promise<void> {
    for (const [k, r] of this.records) if (r.jobId === jobId && r.syncId === syncId) this.records.delete(k);
  }

  /** Every record of a sync, for specs. */
  list(jobId: string, syncId: string): MissingDocumentRecord[] {
    return this.of(jobId, syncId).map(({ sourceNs, targetNs, id, ts }) => ({ sourceNs, targetNs, id, ts }));
  }

  private of(jobId: string, syncId: string): Stored[] {
    return [...this.records.values()].filter((r) => r.jobId === jobId && r.syncId === syncId);
  }
}
