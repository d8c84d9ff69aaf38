/**
 * `GET /api/v1/agent/jobs`: every job the agent must serve (state `initial-sync` or `active`) with its current
 * sync, source URI (no credentials) and filters: `[{ id, state, phase, syncId, syncNo, source: { uri }, filters }]`.
 */
import { Controller, Get, Inject, UseFilters } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AGENT_JOBS_SCHEMA, JobService, type AgentJob } from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiKeyAuth } from '../openapi/api-docs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

/** Service-only: the agent's own route (docs/api.md, "Access"). */
@Controller('api/v1/agent')
@Access.service()
@UseFilters(JobErrorsFilter)
@ApiTags('agent')
@ApiKeyAuth()
export class AgentJobsController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Get('jobs')
  @ApiAnswer(200, AGENT_JOBS_SCHEMA, 'the jobs the agent serves (the service token only)')
  @ApiErrors()
  jobsToServe(): Promise<AgentJob[]> {
    return this.jobs.agentJobs();
  }
}
