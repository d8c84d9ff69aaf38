/**
 * `MongoMissingDocumentStore`: the `MissingDocumentStore` port of `@tidemark/head-database` in the
 * `missing_documents` collection of the meta database:
 *
 * `{ _id: { jobId, syncId, ns, id }, v: 1, jobId, syncId, ns, id, targetNs, ts: Timestamp, recordedAt }`
 *
 * where `ns` is the source namespace and `id` the `_id` as canonical Extended JSON text. The `_id` makes recording
 * idempotent (an upsert); the top-level copies carry the index `{ jobId, syncId, ns, id }` that counting and the
 * sorted, streamed listing use.
 *
 * Format version `MISSING_DOCUMENT_FORMAT` (docs/format.md, "Stored records"): every read checks `v` first (the
 * count and the namespace list, which read no document, first look for one of a version this build does not read)
 * and throws `UnknownFormatVersionError`; `record` never rewrites such a document. `deleteSync` removes a discarded
 * sync's documents whatever their version.
 */
import {
  MongoBulkWriteError,
  Timestamp,
  type AnyBulkWriteOperation,
  type Collection,
  type Filter,
  type MongoClient,
} from 'mongodb';
import { checkRecordVersion, documentLocation, recordFormat, versionFilters } from '@tidemark/domain';
import type { MissingDocumentRecord, MissingDocumentStore } from '@tidemark/head-database';

export const MISSING_DOCUMENTS_COLLECTION = 'missing_documents';
/** Format of a `missing_documents` document; a document without `v` (written before versions) is version 1. */
export const MISSING_DOCUMENT_FORMAT = recordFormat('missing-document record', 1);
const VERSIONS = versionFilters(MISSING_DOCUMENT_FORMAT);
const WRITE_BATCH = 1000;

interface MissingDoc {
  _id: { jobId: string; syncId: string; ns: string; id: string };
  v?: number;
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

  constructor(
    client: MongoClient,
    private readonly metaDb: string,
  ) {
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
          filter: {
            _id: { jobId, syncId, ns: r.sourceNs, id: r.id },
            ...(VERSIONS.readable as Filter<MissingDoc>),
          },
          update: {
            $setOnInsert: { v: MISSING_DOCUMENT_FORMAT.current },
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
      try {
        await this.docs.bulkWrite(ops, { ordered: false });
      } catch (err) {
        // A document of a version this build does not read matches no filter; its upsert collides with its _id.
        if (err instanceof MongoBulkWriteError) await this.refuseUnreadable(jobId, syncId);
        throw err;
      }
    }
  }

  async count(jobId: string, syncId: string): Promise<number> {
    await this.refuseUnreadable(jobId, syncId);
    return this.docs.countDocuments({ jobId, syncId });
  }

  async namespaces(jobId: string, syncId: string): Promise<string[]> {
    await this.refuseUnreadable(jobId, syncId);
    const names = (await this.docs.distinct('ns', { jobId, syncId })) as string[];
    return names.sort();
  }

  async *ids(jobId: string, syncId: string, ns: string): AsyncIterable<string> {
    const cursor = this.docs
      .find({ jobId, syncId, ns }, { projection: { id: 1, v: 1 }, batchSize: WRITE_BATCH })
      .sort({ id: 1 });
    try {
      for await (const doc of cursor) {
        checkRecordVersion(MISSING_DOCUMENT_FORMAT, doc, this.where(doc._id));
        yield doc.id;
      }
    } finally {
      await cursor.close();
    }
  }

  async deleteSync(jobId: string, syncId: string): Promise<void> {
    await this.docs.deleteMany({ jobId, syncId });
  }

  /** Throws `UnknownFormatVersionError` for a document of the sync whose version this build does not read. */
  private async refuseUnreadable(jobId: string, syncId: string): Promise<void> {
    const doc = await this.docs.findOne(
      { jobId, syncId, ...(VERSIONS.unreadable as Filter<MissingDoc>) },
      { projection: { v: 1 } },
    );
    if (doc) checkRecordVersion(MISSING_DOCUMENT_FORMAT, doc, this.where(doc._id));
  }

  private where(id: MissingDoc['_id']): string {
    return documentLocation(this.metaDb, MISSING_DOCUMENTS_COLLECTION, id);
  }
}
