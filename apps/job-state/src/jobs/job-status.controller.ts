/**
 * Where a job stands:
 * - `GET /api/v1/jobs/:id/status`: the stable status contract (docs/api.md): state, phase and progress, applied
 *   position and lag (from the head registry and the oplog store), head location and namespace mapping, source
 *   facts, alerts, blocked;
 * - `GET /api/v1/jobs/:id/retained`: what the job retains, so what `terminate` would delete (snapshots, stored
 *   slices, head databases);
 * - `GET /api/v1/jobs/:id/resume`: for the agent, where to resume the job's oplog tail (the newest stored oplog
 *   position of the current sync) and the sync's `startTs`.
 */
import { Controller, Get, Inject, Param, UseFilters } from '@nestjs/common';
import { JobService, type JobResume, type JobStatus, type RetainedView } from '@tidemark/jobs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

@Controller('api/v1/jobs')
@UseFilters(JobErrorsFilter)
export class JobStatusController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Get(':id/status')
  @Access.project('viewer', 'job')
  status(@Param('id') id: string): Promise<JobStatus> {
    return this.jobs.status(id);
  }

  @Get(':id/retained')
  @Access.project('viewer', 'job')
  retained(@Param('id') id: string): Promise<RetainedView> {
    return this.jobs.retained(id);
  }

  @Get(':id/resume')
  @Access.service()
  resume(@Param('id') id: string): Promise<JobResume> {
    return this.jobs.resume(id);
  }
}
