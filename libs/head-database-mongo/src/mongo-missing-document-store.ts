/**
 * `MongoMissingDocumentStore`: the `MissingDocumentStore` port of `@tidemark/head-database` in the
 * `missing_documents` collection of the meta database:
 *
 * `{ _id: { jobId, syncId, ns, id }, jobId, syncId, ns, id, targetNs, ts: Timestamp, recordedAt }`
 *
 * where `ns` is the source namespace and `id` the `_id` as canonical Extended JSON text. The `_id` makes recording
 * idempotent (an upsert); the top-level copies carry the index `{ jobId, syncId, ns, id }` that counting and the
 * sorted, streamed listing use.
 */
import { Timestamp, type AnyBulkWriteOperation, type Collection, type MongoClient } from 'mongodb';
import type { MissingDocumentRecord, MissingDocumentStore } from '@tidemark/head-database';

export const MISSING_DOCUMENTS_COLLECTION = 'missing_documents';
const WRITE_BATCH = 1000;

interface MissingDoc {
  _id: { jobId: string; syncId: string; ns: string; id: string };
  jobId: string;
  syncId: string;
  ns: string;
  id: string;
  targetNs: string;
  ts: Timestamp;
  recordedAt: Date;
}

export class MongoMissingDocumentStore implements MissingDocumentStore {
  private readonly docs: Collection<MissingDoc>;

  constructor(client: MongoClient, metaDb: string) {
    this.docs = client.db(metaDb).collection<MissingDoc>(MISSING_DOCUMENTS_COLLECTION);
  }

  /** Creates the index the queries use (idempotent). */
  async init(): Promise<void> {
    await this.docs.createIndexes([{ key: { jobId: 1, syncId: 1, ns: 1, id: 1 }, name: 'job_sync_ns_id' }]);
  }

  async record(jobId: string, syncId: string, records: readonly MissingDocumentRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += WRITE_BATCH) {
      const ops: AnyBulkWriteOperation<MissingDoc>[] = records.slice(start, start + WRITE_BATCH).map((r) => ({
        updateOne: {
          filter: { _id: { jobId, syncId, ns: r.sourceNs, id: r.id } },
          update: {
            $set: {
              jobId,
              syncId,
              ns: r.sourceNs,
              id: r.id,
              targetNs: r.targetNs,
              ts: new Timestamp({ t: r.ts.t, i: r.ts.i }),
              recordedAt: new Date(),
            },
          },
          upsert: true,
        },
      }));
      await this.docs.bulkWrite(ops, { ordered: false });
    }
  }

  async count(jobId: string, syncId: string): Promise<number> {
    return this.docs.countDocuments({ jobId, syncId });
  }

  async namespaces(jobId: string, syncId: string): Promise<string[]> {
    const names = (await this.docs.distinct('ns', { jobId, syncId })) as string[];
    return names.sort();
  }

  async *ids(jobId: string, syncId: string, ns: string): AsyncIterable<string> {
    const cursor = this.docs
      .find({ jobId, syncId, ns }, { projection: { id: 1 }, batchSize: WRITE_BATCH })
      .sort({ id: 1 });
    try {
      for await (const doc of cursor) yield doc.id;
    } finally {
      await cursor.close();
    }
  }

  async deleteSync(jobId: string, syncId: string): Promise<void> {
    await this.docs.deleteMany({ jobId, syncId });
  }
}
