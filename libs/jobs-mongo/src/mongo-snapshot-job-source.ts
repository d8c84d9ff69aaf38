/**
 * `MongoSnapshotJobSource`: the `SnapshotJobSource` port of `@tidemark/snapshots` over job-state's `jobs` collection
 * (read only, as the oplog-applier's `MongoJobPhaseReader` does): which jobs get scheduled snapshots (a state that
 * creates snapshots, `active`, and the current sync's phase `complete`, not blocked) and one job's snapshot settings.
 * Each document is read whole through `fromJobDocument`, so its format version is checked first and format 1 reads
 * as the same schedule in minutes.
 */
import type { Collection, MongoClient } from 'mongodb';
import { documentLocation, STATE_POLICY } from '@tidemark/domain';
import type { JobRecord } from '@tidemark/jobs';
import type { SnapshotJob, SnapshotJobSource } from '@tidemark/snapshots';
import { fromJobDocument, type JobDocument } from './job-document';
import { JOBS_COLLECTION } from './mongo-job-repository';

export class MongoSnapshotJobSource implements SnapshotJobSource {
  private readonly jobs: Collection<JobDocument>;

  constructor(
    client: MongoClient,
    private readonly metaDb: string,
  ) {
    this.jobs = client.db(metaDb).collection<JobDocument>(JOBS_COLLECTION);
  }

  async listSnapshotting(): Promise<SnapshotJob[]> {
    const out: SnapshotJob[] = [];
    for await (const doc of this.jobs.find({ state: 'active', phase: 'complete' }, { useBigInt64: true })) {
      const job = this.read(doc);
      if (STATE_POLICY[job.state].createSnapshots && job.blocked === undefined && job.syncId !== undefined) {
        out.push(snapshotJob(job, job.syncId));
      }
    }
    return out;
  }

  async get(jobId: string): Promise<(SnapshotJob & { readonly createsSnapshots: boolean }) | undefined> {
    const doc = await this.jobs.findOne({ _id: jobId }, { useBigInt64: true });
    if (doc === null) return undefined;
    const job = this.read(doc);
    return {
      ...snapshotJob(job, job.syncId ?? ''),
      createsSnapshots:
        STATE_POLICY[job.state].createSnapshots && job.phase === 'complete' && job.syncId !== undefined,
    };
  }

  private read(doc: JobDocument): JobRecord {
    return fromJobDocument(doc, documentLocation(this.metaDb, JOBS_COLLECTION, doc._id));
  }
}

function snapshotJob(job: JobRecord, syncId: string): SnapshotJob {
  return { jobId: job.id, syncId, schedule: job.schedule, store: job.snapshotStore };
}
