/** A real in-memory {@link RestoreCatalog} for unit specs (passes `describeRestoreCatalog`). */
import {
  compareRestoresNewestFirst,
  matchesRestoreQuery,
  type RestoreCatalog,
  type RestoreEntry,
  type RestoreListQuery,
} from './restore-catalog';

export class MemoryRestoreCatalog implements RestoreCatalog {
  private readonly entries = new Map<string, RestoreEntry>();

  async insert(entry: RestoreEntry): Promise<boolean> {
    if (this.entries.has(entry.restoreId)) return false;
    this.entries.set(entry.restoreId, structuredClone(entry));
    return true;
  }

  async get(restoreId: string): Promise<RestoreEntry | undefined> {
    const e = this.entries.get(restoreId);
    return e === undefined ? undefined : structuredClone(e);
  }

  async replace(entry: RestoreEntry, expectedRevision: number): Promise<boolean> {
    const stored = this.entries.get(entry.restoreId);
    if (stored === undefined || stored.revision !== expectedRevision) return false;
    this.entries.set(entry.restoreId, structuredClone(entry));
    return true;
  }

  async list(query: RestoreListQuery): Promise<RestoreEntry[]> {
    return [...this.entries.values()]
      .filter((e) => matchesRestoreQuery(e, query))
      .sort(compareRestoresNewestFirst)
      .slice(0, query.limit)
      .map((e) => structuredClone(e));
  }
}
