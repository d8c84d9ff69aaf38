/**
 * Jobs as resources:
 * - `POST /api/v1/jobs` `{ project, source: { uri }, include?, exclude?, schedule? }`: 201 with the new job
 *   (state `inactive`), 400 listing every problem;
 * - `GET /api/v1/jobs?limit=&after=`: `{ jobs: [...] }` ordered by id (`limit` 1..1000, default 100);
 * - `GET /api/v1/jobs/:id`: the job, or 404 with the reason.
 */
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Inject,
  Param,
  Post,
  Query,
  UseFilters,
} from '@nestjs/common';
import { visibleProjects, type Principal } from '@tidemark/access';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CREATE_JOB_REQUEST_SCHEMA,
  JOB_LIST_SCHEMA,
  JOB_SCHEMA,
  JobService,
  MAX_PAGE,
  jobView,
  parseCreateJobRequest,
  type JobView,
} from '@tidemark/jobs';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
import { Access, Caller } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

const DEFAULT_LIMIT = 100;

@Controller('api/v1/jobs')
@UseFilters(JobErrorsFilter)
@ApiTags('jobs')
@ApiKeyAuth()
export class JobsController {
  constructor(@Inject(JobService) private readonly jobs: JobService) {}

  @Post()
  @Access.project('owner', 'body-project')
  @ApiJsonBody(CREATE_JOB_REQUEST_SCHEMA)
  @ApiAnswer(201, JOB_SCHEMA, 'the new job, inactive')
  @ApiErrors(403, 404)
  async create(@Body() body: unknown): Promise<JobView> {
    return jobView(await this.jobs.createJob(parseCreateJobRequest(body)));
  }

  @Get()
  @Access.signedIn()
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE } })
  @ApiQuery({
    name: 'after',
    required: false,
    schema: { type: 'string' },
    description: 'the last id of the page before',
  })
  @ApiAnswer(200, JOB_LIST_SCHEMA, 'the jobs of the projects the key holds a grant on, by id')
  @ApiErrors()
  async list(
    @Caller() caller: Principal,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
  ): Promise<{ jobs: JobView[] }> {
    const jobs = await this.jobs.listJobs(parseLimit(limit), after, visibleProjects(caller));
    return { jobs: jobs.map(jobView) };
  }

  @Get(':id')
  @Access.project('viewer', 'job')
  @ApiAnswer(200, JOB_SCHEMA)
  @ApiErrors(404)
  async get(@Param('id') id: string): Promise<JobView> {
    return jobView(await this.jobs.getJob(id));
  }
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new BadRequestException(`limit must be an integer in [1, ${MAX_PAGE}], got ${JSON.stringify(raw)}`);
  }
  return n;
}
