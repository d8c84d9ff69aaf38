/**
 * Alerts (docs/api.md, "Alerts"), newest opened first, `{ alerts: [...] }`:
 * - `GET /api/v1/projects/:name/alerts?state=open|closed|all&limit=N`: the project's alerts and those about no job
 *   (a stage's consumer group), viewer of the project; `state` default `open`, `limit` 1..1000, default 100;
 * - `GET /api/v1/jobs/:id/alerts?state=...&limit=N`: one job's, viewer of its project (404 for an unknown job).
 */
import { Controller, Get, Inject, Param, Query, UseFilters } from '@nestjs/common';
import {
  AlertService,
  alertEntryView,
  JobService,
  parseAlertQuery,
  type AlertEntryView,
} from '@tidemark/jobs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from './job-errors.filter';

@Controller('api/v1')
@UseFilters(JobErrorsFilter)
export class AlertsController {
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(JobService) private readonly jobs: JobService,
  ) {}

  @Get('projects/:name/alerts')
  @Access.project('viewer', 'project')
  async ofProject(
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ alerts: AlertEntryView[] }> {
    const entries = await this.alerts.list({ project: name, ...parseAlertQuery(query) });
    return { alerts: entries.map(alertEntryView) };
  }

  @Get('jobs/:id/alerts')
  @Access.project('viewer', 'job')
  async ofJob(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ alerts: AlertEntryView[] }> {
    await this.jobs.getJob(id);
    const entries = await this.alerts.list({ jobId: id, ...parseAlertQuery(query) });
    return { alerts: entries.map(alertEntryView) };
  }
}
