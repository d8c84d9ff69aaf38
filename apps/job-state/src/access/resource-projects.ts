/**
 * Finds the project of the resource a request names ({@link ResourceRef}), and the error that resource answers
 * when it does not exist, which is also what a caller without a grant on the project gets (a 404 it cannot tell
 * from a missing resource). An unknown resource throws its not-found error here, as the handler would.
 */
import {
  AccessValidationError,
  ProjectNotFoundError,
  projectNameProblems,
  type AccessService,
} from '@tidemark/access';
import type { TidemarkError } from '@tidemark/domain';
import {
  JobNotFoundError,
  parseBeginRestoreRequest,
  RestoreNotFoundError,
  SnapshotNotFoundError,
  type JobService,
  type RestoreService,
} from '@tidemark/jobs';
import type { AccessRequest, ResourceRef } from './route-access';

export interface ResourceProject {
  readonly project: string;
  /** The answer for a caller that may not know this resource exists. */
  readonly hidden: () => TidemarkError;
}

export class ResourceProjects {
  constructor(
    private readonly jobs: JobService,
    private readonly restores: RestoreService,
    private readonly access: AccessService,
  ) {}

  /** The projects the request touches (one, or two for a restore naming both a snapshot and a job); [] for none. */
  async of(ref: ResourceRef, req: AccessRequest): Promise<ResourceProject[]> {
    switch (ref) {
      case 'job':
        return [await this.job(param(req, 'id'))];
      case 'snapshot':
        return [await this.snapshot(param(req, 'sid'))];
      case 'restore': {
        const id = param(req, 'id');
        const entry = await this.restores.get(id);
        const project = await this.projectOfJob(entry.jobId, () => new RestoreNotFoundError(id));
        return [{ project, hidden: () => new RestoreNotFoundError(id) }];
      }
      case 'project':
        return [await this.project(param(req, 'name'))];
      case 'body-project': {
        const name = field(req.body, 'project');
        if (typeof name !== 'string') throw new AccessValidationError(['project is required (a string)']);
        return [await this.project(name)];
      }
      case 'restore-body': {
        const snapshotId = field(req.body, 'snapshotId');
        const jobId = field(req.body, 'jobId');
        const found: ResourceProject[] = [];
        if (typeof snapshotId === 'string') found.push(await this.snapshot(snapshotId));
        if (typeof jobId === 'string') found.push(await this.job(jobId));
        if (found.length === 0) {
          parseBeginRestoreRequest(req.body);
          throw new AccessValidationError(['give snapshotId or jobId']);
        }
        return found;
      }
      case 'job-query': {
        const job = req.query['job'];
        return typeof job === 'string' ? [await this.job(job)] : [];
      }
    }
  }

  private async job(id: string): Promise<ResourceProject> {
    const job = await this.jobs.getJob(id);
    return { project: job.project, hidden: () => new JobNotFoundError(id) };
  }

  private async snapshot(sid: string): Promise<ResourceProject> {
    const entry = await this.jobs.getSnapshot(sid);
    const project = await this.projectOfJob(entry.jobId, () => new SnapshotNotFoundError(sid));
    return { project, hidden: () => new SnapshotNotFoundError(sid) };
  }

  /** The project of a resource's job; a job that is gone makes the resource itself not found. */
  private async projectOfJob(jobId: string, notFound: () => TidemarkError): Promise<string> {
    try {
      return (await this.jobs.getJob(jobId)).project;
    } catch (err) {
      throw err instanceof JobNotFoundError ? notFound() : err;
    }
  }

  private async project(name: string): Promise<ResourceProject> {
    if (projectNameProblems(name).length > 0 || (await this.access.projectRecord(name)) === undefined)
      throw new ProjectNotFoundError(name);
    return { project: name, hidden: () => new ProjectNotFoundError(name) };
  }
}

function param(req: AccessRequest, name: string): string {
  const value = req.params[name];
  if (value === undefined) throw new Error(`route has no :${name} parameter for its access rule`);
  return value;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}
