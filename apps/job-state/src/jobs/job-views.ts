/**
 * The `jobs` view collection in the backup-side MongoDB (database `TIDEMARK_META_DB`, default
 * `tidemark_meta`).
 *
 * Folding is idempotent, so Kafka redelivery is harmless. A PhaseChanged report replaces the stored view only
 * when it moves forward:
 * - same sync attempt: a later phase, or the same phase reported at the same time or later (cumulative
 *   progress); an earlier phase is never written back;
 * - another sync attempt (resync, restart): only when reported after the stored report.
 * The rule is one conditional upsert: when a view exists and the filter does not match, the upsert's insert
 * collides on `_id` (duplicate key), which here means "stale report, nothing to do".
 */
import { MongoServerError, type Collection, type MongoClient } from 'mongodb';
import type { PhaseChanged } from '@tidemark/bus';
import { TidemarkError } from '@tidemark/domain';
import { classifyMongoError } from '@tidemark/mongo';
import { toJobView, viewFromPhaseChanged, type JobView, type JobViewDocument } from './job-view';

/** Name of the view collection. */
export const JOBS_COLLECTION = 'jobs';
/** Largest page `list` returns. */
export const MAX_LIST_LIMIT = 1_000;

export type FoldOutcome = 'applied' | 'stale';

const DUPLICATE_KEY = 11000;

/**
 * The upsert's insert hit an existing `_id`. `jobs` has no other unique index, so a duplicate key without a
 * `keyPattern` (FerretDB does not send one) is the `_id`; one naming another index is a real failure.
 */
function isIdCollision(err: unknown): boolean {
  if (!(err instanceof MongoServerError) || err.code !== DUPLICATE_KEY) return false;
  const pattern = (err as { keyPattern?: Record<string, unknown> }).keyPattern;
  return pattern === undefined || Object.keys(pattern).join(',') === '_id';
}

export class JobViews {
  private readonly jobs: Collection<JobViewDocument>;

  constructor(client: MongoClient, dbName: string) {
    this.jobs = client.db(dbName).collection<JobViewDocument>(JOBS_COLLECTION);
  }

  /**
   * Folds one report into the job's view. Resolves once the write is acknowledged by a majority (the caller
   * commits the Kafka offset only then). Throws a TidemarkError (retriable per `classifyMongoError`) when the
   * write fails; nothing is committed then and Kafka redelivers.
   */
  async foldPhaseChanged(event: PhaseChanged): Promise<FoldOutcome> {
    const view = viewFromPhaseChanged(event);
    const filter = {
      _id: view.jobId,
      $or: [
        { syncId: view.syncId, phaseIndex: { $lt: view.phaseIndex } },
        { syncId: view.syncId, phaseIndex: view.phaseIndex, reportedAt: { $lte: view.reportedAt } },
        { syncId: { $ne: view.syncId }, reportedAt: { $lt: view.reportedAt } },
      ],
    };
    try {
      await this.jobs.updateOne(filter, { $set: view }, { upsert: true, writeConcern: { w: 'majority' } });
      return 'applied';
    } catch (err) {
      if (isIdCollision(err)) return 'stale';
      const verdict = classifyMongoError(err);
      throw new TidemarkError(
        `job ${view.jobId}: folding PhaseChanged into the job view failed: ${verdict.reason}`,
        {
          retriable: verdict.retriable,
          cause: err,
        },
      );
    }
  }

  async get(jobId: string): Promise<JobView | undefined> {
    const doc = await this.jobs.findOne({ _id: jobId }, { useBigInt64: true });
    return doc === null ? undefined : toJobView(doc);
  }

  /** Views ordered by job id, at most `limit` (1..MAX_LIST_LIMIT) starting after `afterJobId`. */
  async list(limit: number, afterJobId?: string): Promise<JobView[]> {
    const filter = afterJobId === undefined ? {} : { _id: { $gt: afterJobId } };
    const docs = await this.jobs
      .find(filter, { useBigInt64: true })
      .sort({ _id: 1 })
      .limit(Math.min(Math.max(limit, 1), MAX_LIST_LIMIT))
      .toArray();
    return docs.map(toJobView);
  }
}
