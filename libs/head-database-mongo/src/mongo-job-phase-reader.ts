/**
 * `MongoJobPhaseReader`: the `JobPhaseReader` port of `@tidemark/head-database` (matched structurally) over job-state's
 * `jobs` collection in the meta database (`_id` = job id, one document per job).
 *
 * It reads only the fields every version of job-state's document has: `syncId` and `phase` (the domain's phase
 * names, e.g. `applying-oplogs`), and, when present, `syncNo` (else parsed from the sync id), `state` (jobs whose
 * state is present and not `initial-sync` or `active` apply nothing: a stopped job applies no oplogs) and `blocked`
 * (a job whose pipeline stopped on a rejected slice applies nothing).
 *
 * It checks each job document's format version (`v`) first: a job of a version it does not read
 * ({@link JOB_VERSIONS_READ}) stops the listing with `UnknownFormatVersionError` rather than being skipped.
 */
import type { Collection, MongoClient } from 'mongodb';
import {
  PHASES,
  checkRecordVersion,
  documentLocation,
  isPhase,
  parseSyncId,
  phaseIndex,
  recordFormat,
  type Phase,
} from '@tidemark/domain';

export const JOBS_COLLECTION = 'jobs';

/**
 * The versions of job-state's job document (`JOB_DOCUMENT_FORMAT`, apps/job-state/src/jobs/job-document.ts) this
 * reader understands. A document without `v` (written before versions) is version 1.
 */
export const JOB_VERSIONS_READ = recordFormat('job', 1);

/** Phases in which the oplog-applier works on a sync's head. */
export const APPLYING_PHASES: readonly Phase[] = PHASES.filter(
  (p) => phaseIndex(p) >= phaseIndex('applying-oplogs'),
);

/** States that apply oplogs (docs/design.md's state table). */
const APPLYING_STATES = ['initial-sync', 'active'];

interface JobDoc {
  _id: string;
  v?: unknown;
  syncId?: unknown;
  syncNo?: unknown;
  phase?: unknown;
  state?: unknown;
  blocked?: unknown;
}

/** A job to apply (the `ApplyJob` of `@tidemark/head-database`). */
export interface MongoApplyJob {
  readonly jobId: string;
  readonly syncId: string;
  readonly syncNo: number;
  readonly phase: Phase;
}

export class MongoJobPhaseReader {
  private readonly jobs: Collection<JobDoc>;

  constructor(
    client: MongoClient,
    private readonly metaDb: string,
  ) {
    this.jobs = client.db(metaDb).collection<JobDoc>(JOBS_COLLECTION);
  }

  async listApplying(): Promise<MongoApplyJob[]> {
    const out: MongoApplyJob[] = [];
    const cursor = this.jobs.find(
      { phase: { $in: [...APPLYING_PHASES] } },
      { projection: { v: 1, syncId: 1, syncNo: 1, phase: 1, state: 1, blocked: 1 } },
    );
    for await (const doc of cursor) {
      checkRecordVersion(JOB_VERSIONS_READ, doc, documentLocation(this.metaDb, JOBS_COLLECTION, doc._id));
      const job = toApplyJob(doc);
      if (job !== undefined) out.push(job);
    }
    return out;
  }
}

function toApplyJob(doc: JobDoc): MongoApplyJob | undefined {
  if (typeof doc.syncId !== 'string' || !isPhase(doc.phase)) return undefined;
  if (doc.state !== undefined && !APPLYING_STATES.includes(String(doc.state))) return undefined;
  if (doc.blocked !== undefined && doc.blocked !== null) return undefined;
  let parsed: { jobId: string; syncNo: number };
  try {
    parsed = parseSyncId(doc.syncId);
  } catch {
    return undefined; // not a sync id of this format: not a job the applier can serve
  }
  if (parsed.jobId !== doc._id) return undefined;
  const syncNo =
    typeof doc.syncNo === 'number' && Number.isSafeInteger(doc.syncNo) ? doc.syncNo : parsed.syncNo;
  return { jobId: doc._id, syncId: doc.syncId, syncNo, phase: doc.phase };
}
