/**
 * Alerts (docs/api.md, "Alerts"), newest opened first, `{ alerts: [...] }`:
 * - `GET /api/v1/projects/:name/alerts?state=open|closed|all&limit=N`: the project's alerts and those about no job
 *   (a stage's consumer group), viewer of the project; `state` default `open`, `limit` 1..1000, default 100;
 * - `GET /api/v1/jobs/:id/alerts?state=...&limit=N`: one job's, viewer of its project (404 for an unknown job).
 */
import { Controller, Get, Inject, Param, Query, UseFilters } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  ALERT_LIST_SCHEMA,
  AlertService,
  alertEntryView,
  JobService,
  parseAlertQuery,
  type AlertEntryView,
} from '@tidemark/jobs';
import { Access } from '../access/route-access';
import { ApiAnswer, ApiErrors, ApiKeyAuth } from '../openapi/api-docs';
import { JobErrorsFilter } from './job-errors.filter';

const STATE = { enum: ['open', 'closed', 'all'] };
const LIMIT = { type: 'integer', minimum: 1, maximum: 1000 };

@Controller('api/v1')
@UseFilters(JobErrorsFilter)
@ApiTags('alerts')
@ApiKeyAuth()
export class AlertsController {
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(JobService) private readonly jobs: JobService,
  ) {}

  @Get('projects/:name/alerts')
  @Access.project('viewer', 'project')
  @ApiQuery({ name: 'state', required: false, schema: STATE, description: 'default open' })
  @ApiQuery({ name: 'limit', required: false, schema: LIMIT })
  @ApiAnswer(200, ALERT_LIST_SCHEMA, "the project's alerts and those about no job, newest opened first")
  @ApiErrors(404)
  async ofProject(
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ alerts: AlertEntryView[] }> {
    const entries = await this.alerts.list({ project: name, ...parseAlertQuery(query) });
    return { alerts: entries.map(alertEntryView) };
  }

  @Get('jobs/:id/alerts')
  @Access.project('viewer', 'job')
  @ApiQuery({ name: 'state', required: false, schema: STATE, description: 'default open' })
  @ApiQuery({ name: 'limit', required: false, schema: LIMIT })
  @ApiAnswer(200, ALERT_LIST_SCHEMA, "the job's alerts, newest opened first")
  @ApiErrors(404)
  async ofJob(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ alerts: AlertEntryView[] }> {
    await this.jobs.getJob(id);
    const entries = await this.alerts.list({ jobId: id, ...parseAlertQuery(query) });
    return { alerts: entries.map(alertEntryView) };
  }
}
