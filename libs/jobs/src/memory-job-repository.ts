/**
 * A real in-memory {@link JobRepository} (unit specs, local experiments): the same compare-and-set semantics as
 * the MongoDB one. Jobs are copied in and out, so callers cannot change stored jobs by accident.
 */
import { hasPendingEffects, type JobRecord } from './job-record';
import type { JobQuery, JobRepository } from './ports';

export class MemoryJobRepository implements JobRepository {
  private readonly jobs = new Map<string, JobRecord>();

  async insert(job: JobRecord): Promise<boolean> {
    if (this.jobs.has(job.id)) return false;
    this.jobs.set(job.id, structuredClone(job));
    return true;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(id);
    return job === undefined ? undefined : structuredClone(job);
  }

  async list(query: JobQuery): Promise<JobRecord[]> {
    return [...this.jobs.values()]
      .filter((j) => query.after === undefined || j.id > query.after)
      .filter((j) => query.states === undefined || query.states.includes(j.state))
      .filter((j) => query.projects === undefined || query.projects.includes(j.project))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, query.limit)
      .map((j) => structuredClone(j));
  }

  async replace(job: JobRecord, expectedRevision: number): Promise<boolean> {
    const stored = this.jobs.get(job.id);
    if (stored === undefined || stored.revision !== expectedRevision) return false;
    this.jobs.set(job.id, structuredClone(job));
    return true;
  }

  async listWithPendingEffects(limit: number): Promise<string[]> {
    return [...this.jobs.values()]
      .filter(hasPendingEffects)
      .map((j) => j.id)
      .sort()
      .slice(0, limit);
  }
}
