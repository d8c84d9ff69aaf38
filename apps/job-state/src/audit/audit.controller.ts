/**
 * The audit trail (docs/api.md, "Audit"), newest first:
 * - `GET /api/v1/projects/:name/audit?limit=&before=`: the project's events; its owner (or the admin key);
 * - `GET /api/v1/audit?project=&limit=&before=`: every event, or one project's; the admin key only.
 */
import { Controller, Get, Inject, Param, Query, UseFilters } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  AUDIT_LIST_SCHEMA,
  AuditLog,
  auditEventView,
  MAX_AUDIT_PAGE,
  parseAuditQuery,
  type AuditEventView,
} from '@tidemark/access';
import { ApiAnswer, ApiErrors, ApiKeyAuth } from '../openapi/api-docs';
import { Access } from '../access/route-access';
import { JobErrorsFilter } from '../jobs/job-errors.filter';

const LIMIT = { type: 'integer', minimum: 1, maximum: MAX_AUDIT_PAGE };
const BEFORE = { type: 'string', format: 'date-time' };

@Controller('api/v1')
@UseFilters(JobErrorsFilter)
@ApiTags('audit')
@ApiKeyAuth()
export class AuditController {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  @Get('projects/:name/audit')
  @Access.project('owner', 'project')
  @ApiQuery({ name: 'limit', required: false, schema: LIMIT })
  @ApiQuery({ name: 'before', required: false, schema: BEFORE, description: 'events before this time' })
  @ApiAnswer(200, AUDIT_LIST_SCHEMA, "the project's audit events, newest first")
  @ApiErrors(403, 404)
  async ofProject(
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ events: AuditEventView[] }> {
    const parsed = parseAuditQuery(query, ['limit', 'before']);
    return { events: (await this.audit.list({ ...parsed, project: name })).map(auditEventView) };
  }

  @Get('audit')
  @Access.admin()
  @ApiQuery({ name: 'limit', required: false, schema: LIMIT })
  @ApiQuery({ name: 'before', required: false, schema: BEFORE, description: 'events before this time' })
  @ApiQuery({ name: 'project', required: false, schema: { type: 'string' }, description: "one project's" })
  @ApiAnswer(200, AUDIT_LIST_SCHEMA, 'every audit event, newest first (the admin key)')
  @ApiErrors(403)
  async all(@Query() query: Record<string, unknown>): Promise<{ events: AuditEventView[] }> {
    const parsed = parseAuditQuery(query, ['limit', 'before', 'project']);
    return { events: (await this.audit.list(parsed)).map(auditEventView) };
  }
}
