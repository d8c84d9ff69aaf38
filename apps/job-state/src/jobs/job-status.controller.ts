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
import { ApiTags } from '@nestjs/swagger';
import {
  JOB_RESUME_SCHEMA,
  JOB_STATUS_SCHEMA,
  JobService,
  RETAINED_SCHEMA,
  type JobResume,
  type JobStatus,
  type RetainedView,
} from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiKeyAuth } from '../openapi/api-docs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

@Controller('api/v1/jobs')
@UseFilters(JobErrorsFilter)
@ApiTags('jobs')
@ApiKeyAuth()
export class JobStatusController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Get(':id/status')
  @Access.project('viewer', 'job')
  @ApiAnswer(200, JOB_STATUS_SCHEMA, 'where the job stands (the stable status contract)')
  @ApiErrors(404)
  status(@Param('id') id: string): Promise<JobStatus> {
    return this.jobs.status(id);
  }

  @Get(':id/retained')
  @Access.project('viewer', 'job')
  @ApiAnswer(200, RETAINED_SCHEMA, 'what the job retains, so what terminate deletes')
  @ApiErrors(404)
  retained(@Param('id') id: string): Promise<RetainedView> {
    return this.jobs.retained(id);
  }

  @Get(':id/resume')
  @Access.service()
  @ApiAnswer(200, JOB_RESUME_SCHEMA, 'for the agent (the service token only)')
  @ApiErrors(404)
  resume(@Param('id') id: string): Promise<JobResume> {
    return this.jobs.resume(id);
  }
}
