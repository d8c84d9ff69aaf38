/**
 * Counting the jobs for operators (job-state's metrics): how many are in each state, and how many need a resync:
 * their current sync raised `RESYNC_REQUIRED` (the source oplog no longer holds the job's position, so the backup
 * cannot go on without a new initial sync). Alerts of earlier syncs are not kept on the job, so a resync clears it;
 * an `inactive` job (terminated, its backups deleted) needs nothing.
 */
import { ALERT_CODES, JOB_STATES, type JobState } from '@tidemark/domain';
import type { JobRecord } from './job-record';
import type { JobRepository } from './ports';

export interface JobCounts {
  readonly byState: Readonly<Record<JobState, number>>;
  readonly resyncRequired: number;
}

/** Whether the job's current sync raised RESYNC_REQUIRED and the job is not inactive. */
export function needsResync(job: Pick<JobRecord, 'state' | 'alerts'>): boolean {
  return job.state !== 'inactive' && job.alerts.some((a) => a.code === ALERT_CODES.resyncRequired);
}

/** Jobs read per page. */
const PAGE = 1000;

/** Counts every job of `jobs`, paging by id. */
export async function countJobs(jobs: Pick<JobRepository, 'list'>): Promise<JobCounts> {
  const byState = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  let resyncRequired = 0;
  let after: string | undefined;
  for (;;) {
    const page = await jobs.list({ limit: PAGE, ...(after === undefined ? {} : { after }) });
    for (const job of page) {
      byState[job.state] += 1;
      if (needsResync(job)) resyncRequired += 1;
    }
    if (page.length < PAGE) return { byState, resyncRequired };
    after = page[page.length - 1]!.id;
  }
}
