/**
 * `MongoJobPhaseReader`: the `JobPhaseReader` port of `@tidemark/head-database` over job-state's `jobs` collection in
 * the meta database (`_id` = job id, one document per job; layout in `job-document.ts`). It is the one read of that
 * collection outside job-state, shared on purpose: the oplog-applier's scheduler scans it every tick
 * (docs/architecture.md, "Who owns which store").
 *
 * It reads only the fields every version of job-state's document has: `syncId` and `phase` (the domain's phase
 * names, e.g. `applying-oplogs`), and, when present, `syncNo` (else parsed from the sync id), `state` (a job whose
 * state is present applies oplogs only when `STATE_POLICY` of `@tidemark/domain` says its state does: a stopped job
 * applies nothing) and `blocked` (a job whose pipeline stopped on a rejected slice applies nothing).
 *
 * It checks each job document's format version (`v`) first: a job of a version it does not read
 * ({@link JOB_VERSIONS_READ}) stops the listing with `UnknownFormatVersionError` rather than being skipped.
 */
import type { Collection, MongoClient } from 'mongodb';
import {
  PHASES,
  STATE_POLICY,
  checkRecordVersion,
  documentLocation,
  isJobState,
  isPhase,
  parseSyncId,
  phaseIndex,
  type Phase,
} from '@tidemark/domain';
import type { ApplyJob, JobPhaseReader } from '@tidemark/head-database';
import { JOB_DOCUMENT_FORMAT } from './job-document';
import { JOBS_COLLECTION } from './mongo-job-repository';

/**
 * The versions of job-state's job document this reader understands: those the repository reads
 * (`JOB_DOCUMENT_FORMAT`, declared once in ./job-document.ts). A document without `v` is version 1.
 */
export const JOB_VERSIONS_READ = JOB_DOCUMENT_FORMAT;

/** Phases in which the oplog-applier works on a sync's head. */
export const APPLYING_PHASES: readonly Phase[] = PHASES.filter(
  (p) => phaseIndex(p) >= phaseIndex('applying-oplogs'),
);

interface JobDoc {
  _id: string;
  v?: unknown;
  syncId?: unknown;
  syncNo?: unknown;
  phase?: unknown;
  state?: unknown;
  blocked?: unknown;
}

export class MongoJobPhaseReader implements JobPhaseReader {
  private readonly jobs: Collection<JobDoc>;

  constructor(
    client: MongoClient,
    private readonly metaDb: string,
  ) {
    this.jobs = client.db(metaDb).collection<JobDoc>(JOBS_COLLECTION);
  }

  async listApplying(): Promise<ApplyJob[]> {
    const out: ApplyJob[] = [];
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

/** A state applies oplogs when the domain's state table says so; an unknown state applies nothing. */
const appliesOplogs = (state: unknown): boolean => isJobState(state) && STATE_POLICY[state].applyOplogs;

function toApplyJob(doc: JobDoc): ApplyJob | undefined {
  if (typeof doc.syncId !== 'string' || !isPhase(doc.phase)) return undefined;
  if (doc.state !== undefined && !appliesOplogs(doc.state)) return undefined;
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
