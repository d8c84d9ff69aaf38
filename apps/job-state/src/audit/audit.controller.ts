/**
 * The audit trail (docs/api.md, "Audit"), newest first:
 * - `GET /api/v1/projects/:name/audit?limit=&before=`: the project's events; its owner (or the admin key);
 * - `GET /api/v1/audit?project=&limit=&before=`: every event, or one project's; the admin key only.
 */
import { Controller, Get, Inject, Param, Query, UseFilters } from '@nestjs/common';
import { AuditLog, auditEventView, parseAuditQuery, type AuditEventView } from '@tidemark/access';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from '../jobs/job-errors.filter';

@Controller('api/v1')
@UseFilters(JobErrorsFilter)
export class AuditController {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  @Get('projects/:name/audit')
  @Access.project('owner', 'project')
  async ofProject(
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ events: AuditEventView[] }> {
    const parsed = parseAuditQuery(query, ['limit', 'before']);
    return { events: (await this.audit.list({ ...parsed, project: name })).map(auditEventView) };
  }

  @Get('audit')
  @Access.admin()
  async all(@Query() query: Record<string, unknown>): Promise<{ events: AuditEventView[] }> {
    const parsed = parseAuditQuery(query, ['limit', 'before', 'project']);
    return { events: (await this.audit.list(parsed)).map(auditEventView) };
  }
}
