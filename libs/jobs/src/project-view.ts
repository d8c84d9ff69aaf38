/**
 * What the Backup page shows of one project, in one read: each job (its `Job` view, with `allowedActions`), its
 * status (state, phase and progress, lag, last snapshot, restorable window, alerts), its newest snapshots and its
 * newest restores. The live stream (`ProjectFeed`) sends this whenever it changes. Bounded: at most
 * {@link PROJECT_VIEW_MAX_JOBS} jobs (by id; `truncated` says when there are more), and per job the newest
 * {@link PROJECT_VIEW_SNAPSHOTS} snapshots and {@link PROJECT_VIEW_RESTORES} restores.
 */
import type { JobService } from './job-service';
import { restoreView, type RestoreView } from './restore-catalog';
import type { RestoreService } from './restore-service';
import { snapshotView, type SnapshotView } from './snapshot-catalog';
import { jobView, type JobStatus, type JobView } from './views';

export const PROJECT_VIEW_MAX_JOBS = 100;
export const PROJECT_VIEW_SNAPSHOTS = 20;
export const PROJECT_VIEW_RESTORES = 10;

export interface ProjectJobView {
  job: JobView;
  status: JobStatus;
  /** Newest first, at most {@link PROJECT_VIEW_SNAPSHOTS}. */
  snapshots: SnapshotView[];
  /** Newest first, at most {@link PROJECT_VIEW_RESTORES}. */
  restores: RestoreView[];
}

export interface ProjectView {
  project: string;
  jobs: ProjectJobView[];
  /** More jobs than {@link PROJECT_VIEW_MAX_JOBS} exist; the first ones by id are shown. */
  truncated: boolean;
}

/** Reads the project's view; jobs one after the other, so one view never holds many reads in flight. */
export async function loadProjectView(
  jobs: JobService,
  restores: RestoreService,
  project: string,
): Promise<ProjectView> {
  const records = await jobs.listJobs(PROJECT_VIEW_MAX_JOBS + 1, undefined, [project]);
  const out: ProjectJobView[] = [];
  for (const record of records.slice(0, PROJECT_VIEW_MAX_JOBS)) {
    const [status, snapshots, jobRestores] = await Promise.all([
      jobs.status(record.id),
      jobs.listSnapshots(record.id),
      restores.list({ jobId: record.id, limit: PROJECT_VIEW_RESTORES }),
    ]);
    out.push({
      job: jobView(record),
      status,
      snapshots: snapshots.slice(0, PROJECT_VIEW_SNAPSHOTS).map(snapshotView),
      restores: jobRestores.map(restoreView),
    });
  }
  return { project, jobs: out, truncated: records.length > PROJECT_VIEW_MAX_JOBS };
}
