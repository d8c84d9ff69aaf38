/** A real in-memory {@link JobPhaseReader}: the jobs a spec says are applying. */
import { phaseIndex } from '@tidemark/domain';
import type { ApplyJob, JobPhaseReader } from './ports';

export class MemoryJobPhaseReader implements JobPhaseReader {
  private readonly jobs = new Map<string, ApplyJob>();

  /** Sets (or replaces) a job's current sync and phase. */
  set(job: ApplyJob): void {
    this.jobs.set(job.jobId, { ...job });
  }

  remove(jobId: string): void {
    this.jobs.delete(jobId);
  }

  async listApplying(): Promise<ApplyJob[]> {
    return [...this.jobs.values()]
      .filter((job) => phaseIndex(job.phase) >= phaseIndex('applying-oplogs'))
      .map((job) => ({ ...job }));
  }
}
