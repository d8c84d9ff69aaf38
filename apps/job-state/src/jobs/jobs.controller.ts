/**
 * REST API of job-state (read side, for now):
 * - `GET /api/v1/jobs?limit=&after=`: job views ordered by job id (`limit` 1..1000, default 100; `after` pages);
 * - `GET /api/v1/jobs/:id`: one job view, or 404 with the reason.
 */
import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Query,
} from '@nestjs/common';
import type { JobView } from './job-view';
import { JobViews, MAX_LIST_LIMIT } from './job-views';

const DEFAULT_LIMIT = 100;

@Controller('api/v1/jobs')
export class JobsController {
  constructor(@Inject(JobViews) private readonly views: JobViews) {}

  @Get()
  async list(@Query('limit') limit?: string, @Query('after') after?: string): Promise<{ jobs: JobView[] }> {
    return { jobs: await this.views.list(parseLimit(limit), after) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<JobView> {
    const view = await this.views.get(id);
    if (view === undefined) {
      throw new NotFoundException(`job ${id} not found: no phase has been reported for it`);
    }
    return view;
  }
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) {
    throw new BadRequestException(
      `limit must be an integer in [1, ${MAX_LIST_LIMIT}], got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}
