/**
 * The `JobRepository` of `@tidemark/jobs` over the `jobs` collection of the meta database (`TIDEMARK_META_DB`,
 * default `tidemark_meta`); document layout in `job-document.ts`. This library owns the collection: its name is
 * declared here, once, and the only other reader is `MongoJobPhaseReader` beside it (docs/architecture.md).
 *
 * Writes are acknowledged by a majority before they resolve. `replace` is a compare-and-set on `revision` (one
 * `replaceOne` whose filter names the expected revision), so concurrent requests and job-state replicas never
 * overwrite each other's changes. Driver failures become a `TidemarkError` whose `retriable` flag comes from
 * the injected classifier (the app passes `classifyMongoError` of `@tidemark/mongo`; the API answers 503 for
 * retriable ones).
 *
 * Every read checks a document's format version first (`fromJobDocument`): a job of a version this build does not
 * read throws `UnknownFormatVersionError` (the API answers 500 with it). `replace` only matches a document of a
 * version this build reads, so it never writes over a newer one; the caller's reread then refuses it.
 */
import { MongoServerError, type Collection, type Filter, type MongoClient } from 'mongodb';
import { documentLocation, TidemarkError, versionFilters } from '@tidemark/domain';
import type { JobQuery, JobRecord, JobRepository, StoreErrorClassifier } from '@tidemark/jobs';
import { fromJobDocument, JOB_DOCUMENT_FORMAT, toJobDocument, type JobDocument } from './job-document';

/** Name of the collection. */
export const JOBS_COLLECTION = 'jobs';

const DUPLICATE_KEY = 11000;
/**
 * Documents of the job layout (`job-document.ts`). Before jobs existed, `jobs` held phase views keyed by whatever
 * job id a stage reported (no `revision`); such leftovers are not jobs and are never read as ones.
 */
const JOB_LAYOUT: Filter<JobDocument> = { revision: { $exists: true } };
const MAJORITY = { writeConcern: { w: 'majority' as const } };
/** Documents of a format version this build reads. */
const READABLE = versionFilters(JOB_DOCUMENT_FORMAT).readable as Filter<JobDocument>;

export class MongoJobRepository implements JobRepository {
  private readonly jobs: Collection<JobDocument>;

  constructor(
    client: MongoClient,
    private readonly dbName: string,
    private readonly classify: StoreErrorClassifier,
  ) {
    this.jobs = client.db(dbName).collection<JobDocument>(JOBS_COLLECTION);
  }

  /** Creates the indexes the queries rely on (idempotent). */
  async init(): Promise<void> {
    // One index per call: FerretDB 1.24 closes the connection on a createIndexes naming several indexes that
    // all exist already (every restart); MongoDB takes either form.
    await this.guard('create the jobs indexes', async () => {
      await this.jobs.createIndex({ state: 1, _id: 1 }, { name: 'state_id' });
      await this.jobs.createIndex({ pendingEffects: 1 }, { name: 'pending_effects' });
      await this.jobs.createIndex({ project: 1, _id: 1 }, { name: 'project_id' });
    });
  }

  async insert(job: JobRecord): Promise<boolean> {
    try {
      await this.jobs.insertOne(toJobDocument(job), MAJORITY);
      return true;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return false;
      throw wrap(`insert job ${job.id}`, err, this.classify);
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const doc = await this.guard(`read job ${id}`, () =>
      this.jobs.findOne({ _id: id, ...JOB_LAYOUT }, { useBigInt64: true }),
    );
    return doc === null ? undefined : this.fromDocument(doc);
  }

  async list(query: JobQuery): Promise<JobRecord[]> {
    const filter: Filter<JobDocument> = { ...JOB_LAYOUT };
    if (query.after !== undefined) filter._id = { $gt: query.after };
    if (query.states !== undefined) filter.state = { $in: [...query.states] };
    if (query.projects !== undefined) filter.project = { $in: [...query.projects] };
    const docs = await this.guard('list jobs', () =>
      this.jobs.find(filter, { useBigInt64: true }).sort({ _id: 1 }).limit(query.limit).toArray(),
    );
    return docs.map((doc) => this.fromDocument(doc));
  }

  async replace(job: JobRecord, expectedRevision: number): Promise<boolean> {
    const result = await this.guard(`write job ${job.id}`, () =>
      this.jobs.replaceOne(
        { _id: job.id, revision: expectedRevision, ...READABLE },
        toJobDocument(job),
        MAJORITY,
      ),
    );
    return result.matchedCount === 1;
  }

  async listWithPendingEffects(limit: number): Promise<string[]> {
    const docs = await this.guard('list jobs with pending effects', () =>
      this.jobs
        .find({ pendingEffects: true }, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map((d) => d._id);
  }

  private fromDocument(doc: JobDocument): JobRecord {
    return fromJobDocument(doc, documentLocation(this.dbName, JOBS_COLLECTION, doc._id));
  }

  private async guard<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw wrap(what, err, this.classify);
    }
  }
}

function wrap(what: string, err: unknown, classify: StoreErrorClassifier): TidemarkError {
  const verdict = classify(err);
  return new TidemarkError(`jobs store: ${what} failed: ${verdict.reason}`, {
    retriable: verdict.retriable,
    cause: err,
  });
}
