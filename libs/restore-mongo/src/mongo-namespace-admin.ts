/** `NamespaceAdmin` of `@tidemark/restore` on a MongoDB deployment: counting and dropping a restore's namespaces. */
import { MongoServerError, type MongoClient } from 'mongodb';
import { splitNamespace } from '@tidemark/domain';
import type { NamespaceAdmin } from '@tidemark/restore';

const NAMESPACE_NOT_FOUND = 26;

export class MongoNamespaceAdmin implements NamespaceAdmin {
  constructor(private readonly client: MongoClient) {}

  countDocuments(ns: string): Promise<number> {
    const { db, coll } = splitNamespace(ns);
    return this.client.db(db).collection(coll).countDocuments({}, { limit: 1_000_000 });
  }

  async dropNamespace(ns: string): Promise<void> {
    const { db, coll } = splitNamespace(ns);
    try {
      await this.client.db(db).collection(coll).drop();
    } catch (err) {
      if (err instanceof MongoServerError && err.code === NAMESPACE_NOT_FOUND) return;
      throw err;
    }
  }
}
