import { BSON, EJSON, type Document } from 'bson';
import { headDatabasePrefix, splitNamespace, type HeadWriter } from '@tidemark/domain';

/**
 * A real in-memory HeadWriter for unit tests: collections of raw documents keyed by their `_id`'s canonical
 * Extended JSON, with the same insert/upsert semantics as the MongoDB writer.
 */
export class MemoryHeadWriter implements HeadWriter {
  readonly collections = new Map<
    string,
    { options?: Document; docs: Map<string, Buffer>; indexes: Document[] }
  >();

  private coll(headNs: string) {
    let c = this.collections.get(headNs);
    if (!c) {
      c = { docs: new Map(), indexes: [] };
      this.collections.set(headNs, c);
    }
    return c;
  }

  private static key(raw: Buffer): string {
    return EJSON.stringify(BSON.deserialize(raw, { promoteValues: false })['_id'], { relaxed: false });
  }

  async createCollection(headNs: string, optionsEjson?: string): Promise<void> {
    const c = this.coll(headNs);
    if (optionsEjson && !c.options) c.options = EJSON.parse(optionsEjson, { relaxed: false }) as Document;
  }

  async insertScanned(headNs: string, docs: Buffer[]): Promise<void> {
    const c = this.coll(headNs);
    for (const d of docs) {
      const k = MemoryHeadWriter.key(d);
      if (!c.docs.has(k)) c.docs.set(k, Buffer.from(d));
    }
  }

  async upsertFetched(headNs: string, docs: Buffer[]): Promise<void> {
    const c = this.coll(headNs);
    for (const d of docs) c.docs.set(MemoryHeadWriter.key(d), Buffer.from(d));
  }

  async createIndexes(headNs: string, indexesEjson?: string): Promise<void> {
    if (!indexesEjson) return;
    const c = this.coll(headNs);
    for (const spec of EJSON.parse(indexesEjson, { relaxed: false }) as Document[]) {
      if (!c.indexes.some((i) => i['name'] === spec['name'])) c.indexes.push(spec);
    }
  }

  async dropHead(jobId: string, syncNo: number): Promise<void> {
    const prefix = headDatabasePrefix(jobId, syncNo);
    for (const ns of [...this.collections.keys()])
      if (splitNamespace(ns).db.startsWith(prefix)) this.collections.delete(ns);
  }
}
