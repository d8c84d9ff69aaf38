/**
 * Restores through job-state (docs/api.md, "Restores"). A restore runs in the CLI; job-state records it
 * (`RestoreService` of `@tidemark/jobs`) and publishes its events on `tidemark.restores`.
 * - `POST /api/v1/restores`: 201 with the restore `running` (the CLI registers it before writing anything);
 *   400 listing every problem, 404 for an unknown job or snapshot, 409 for a snapshot that is not complete;
 * - `POST /api/v1/restores/:id/progress`, `POST /api/v1/restores/:id/finish`: the CLI's reports; 409 for a
 *   finished restore or progress that goes back;
 * - `POST /api/v1/restores/:id/cancel`: 202, the user's request (the CLI stops between batches); 409 once finished;
 * - `GET /api/v1/restores/:id`; `GET /api/v1/restores?job=ID&limit=N`: newest first (all jobs without `job`).
 */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseFilters } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  BEGIN_RESTORE_REQUEST_SCHEMA,
  FINISH_RESTORE_REQUEST_SCHEMA,
  MAX_RESTORE_PAGE,
  RESTORE_LIST_SCHEMA,
  RESTORE_PROGRESS_REQUEST_SCHEMA,
  RESTORE_SCHEMA,
  parseBeginRestoreRequest,
  parseFinishRestoreRequest,
  parseRestoreProgressRequest,
  RestoreService,
  RestoreValidationError,
  restoreView,
  type RestoreView,
} from '@tidemark/jobs';
import { visibleProjects, type Principal } from '@tidemark/access';
import { Access, Caller } from '../access/route-access';
import { ApiAnswer, ApiErrors, ApiJsonBody, ApiKeyAuth } from '../openapi/api-docs';
import { JobErrorsFilter } from './job-errors.filter';

@Controller('api/v1/restores')
@UseFilters(JobErrorsFilter)
@ApiTags('restores')
@ApiKeyAuth()
export class RestoresController {
  constructor(@Inject(RestoreService) private readonly restores: RestoreService) {}

  @Post()
  @Access.project('operator', 'restore-body')
  @ApiJsonBody(BEGIN_RESTORE_REQUEST_SCHEMA)
  @ApiAnswer(201, RESTORE_SCHEMA, 'the restore, running')
  @ApiErrors(403, 404, 409)
  async begin(@Body() body: unknown): Promise<RestoreView> {
    return restoreView(await this.restores.begin(parseBeginRestoreRequest(body)));
  }

  @Get()
  @Access.project('viewer', 'job-query')
  @ApiQuery({ name: 'job', required: false, schema: { type: 'string' }, description: "one job's restores" })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_RESTORE_PAGE },
  })
  @ApiAnswer(200, RESTORE_LIST_SCHEMA, 'newest first')
  @ApiErrors(404)
  async list(
    @Caller() caller: Principal,
    @Query('job') job?: string,
    @Query('limit') limit?: string,
  ): Promise<{ restores: RestoreView[] }> {
    const projects = visibleProjects(caller);
    const entries = await this.restores.list({
      ...(job === undefined ? {} : { jobId: job }),
      ...(projects === undefined ? {} : { projects }),
      limit: parseLimit(limit),
    });
    return { restores: entries.map(restoreView) };
  }

  @Get(':id')
  @Access.project('viewer', 'restore')
  @ApiAnswer(200, RESTORE_SCHEMA)
  @ApiErrors(404)
  async get(@Param('id') id: string): Promise<RestoreView> {
    return restoreView(await this.restores.get(id));
  }

  @Post(':id/progress')
  @Access.project('operator', 'restore')
  @HttpCode(200)
  @ApiJsonBody(RESTORE_PROGRESS_REQUEST_SCHEMA)
  @ApiAnswer(200, RESTORE_SCHEMA)
  @ApiErrors(403, 404, 409)
  async progress(@Param('id') id: string, @Body() body: unknown): Promise<RestoreView> {
    return restoreView(await this.restores.progress(id, parseRestoreProgressRequest(body)));
  }

  @Post(':id/finish')
  @Access.project('operator', 'restore')
  @HttpCode(200)
  @ApiJsonBody(FINISH_RESTORE_REQUEST_SCHEMA)
  @ApiAnswer(200, RESTORE_SCHEMA)
  @ApiErrors(403, 404, 409)
  async finish(@Param('id') id: string, @Body() body: unknown): Promise<RestoreView> {
    return restoreView(await this.restores.finish(id, parseFinishRestoreRequest(body)));
  }

  @Post(':id/cancel')
  @Access.project('operator', 'restore')
  @HttpCode(202)
  @ApiAnswer(202, RESTORE_SCHEMA, 'the restore, cancelRequested')
  @ApiErrors(403, 404, 409)
  async cancel(@Param('id') id: string): Promise<RestoreView> {
    return restoreView(await this.restores.requestCancel(id));
  }
}

function parseLimit(limit: string | undefined): number {
  if (limit === undefined) return MAX_RESTORE_PAGE;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_RESTORE_PAGE)
    throw new RestoreValidationError([`limit must be a whole number from 1 to ${MAX_RESTORE_PAGE}`]);
  return n;
}
