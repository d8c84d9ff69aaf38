/**
 * The agent's own routes (service token):
 * - `GET /api/v1/agent/jobs`: every job the agent must serve (state `initial-sync` or `active`) with its current
 *   sync, source URI (no credentials) and filters: `[{ id, state, phase, syncId, syncNo, source: { uri }, filters }]`;
 * - `POST /api/v1/agent/capture`: where each running job's capture is (`{ positions: [...] }`, 204), so job-state
 *   knows the source's newest position (lag, "oplog is behind").
 */
import { Body, Controller, Get, HttpCode, Inject, Post, UseFilters } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  AGENT_CAPTURE_REQUEST_SCHEMA,
  AGENT_JOBS_SCHEMA,
  JobService,
  parseCaptureReport,
  type AgentJob,
} from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
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

  @Post('capture')
  @HttpCode(204)
  @ApiJsonBody(AGENT_CAPTURE_REQUEST_SCHEMA)
  @ApiResponse({ status: 204, description: 'recorded (unknown jobs and other syncs are skipped)' })
  @ApiErrors()
  async capture(@Body() body: unknown): Promise<void> {
    await this.jobs.recordCapture(parseCaptureReport(body));
  }
}
