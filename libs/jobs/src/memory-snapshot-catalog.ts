/** A real in-memory {@link SnapshotCatalog} for unit specs. */
import { compareNewestFirst, type SnapshotCatalog, type SnapshotEntry } from './snapshot-catalog';

export class MemorySnapshotCatalog implements SnapshotCatalog {
  private readonly entries = new Map<string, SnapshotEntry>();

  async get(snapshotId: string): Promise<SnapshotEntry | undefined> {
    const e = this.entries.get(snapshotId);
    return e === undefined ? undefined : structuredClone(e);
  }

  async put(entry: SnapshotEntry): Promise<void> {
    this.entries.set(entry.snapshotId, structuredClone(entry));
  }

  async listForJob(jobId: string): Promise<SnapshotEntry[]> {
    return [...this.entries.values()]
      .filter((e) => e.jobId === jobId)
      .map((e) => structuredClone(e))
      .sort(compareNewestFirst);
  }

  async deleteForJob(jobId: string): Promise<void> {
    for (const [id, e] of this.entries) if (e.jobId === jobId) this.entries.delete(id);
  }
}
