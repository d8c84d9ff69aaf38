/**
 * `PATCH /api/v1/jobs/:id/settings` `{ readLimit: number | null }`: changes the job's settings in any state and
 * answers 200 with the job; needs `operator` on the job's project (docs/api.md, "Access"); 400 listing every problem (a field it does not take, a limit that is not a number of
 * MB/s in bounds), 404 for an unknown job. The agent applies a new read limit to the running sync within one poll
 * of `GET /api/v1/agent/jobs` (docs/api.md).
 */
import { Body, Controller, Inject, Param, Patch, UseFilters } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  JOB_SCHEMA,
  JOB_SETTINGS_REQUEST_SCHEMA,
  JobService,
  jobView,
  parseJobSettingsRequest,
  type JobView,
} from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

@Controller('api/v1/jobs')
@UseFilters(JobErrorsFilter)
@ApiTags('jobs')
@ApiKeyAuth()
export class JobSettingsController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Patch(':id/settings')
  @Access.project('operator', 'job')
  @ApiJsonBody(JOB_SETTINGS_REQUEST_SCHEMA)
  @ApiAnswer(200, JOB_SCHEMA, 'the job with its new settings')
  @ApiErrors(403, 404, 409)
  async change(@Param('id') id: string, @Body() body: unknown): Promise<JobView> {
    return jobView(await this.jobs.changeSettings(id, parseJobSettingsRequest(body)));
  }
}
