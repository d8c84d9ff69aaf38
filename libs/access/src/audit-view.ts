/**
 * The audit trail as the API shows it (docs/api.md, "Audit"): an event with times in ISO 8601 and absent values
 * `null`, and the listing's query (`limit` 1..1000, default 100; `before` an ISO 8601 time, exclusive; `project`
 * for the admin's listing), every problem reported at once.
 */
import type { AuditEvent } from '@tidemark/domain';
import { AccessValidationError } from './access-errors';
import type { AuditListQuery } from './audit-log';
import { MAX_AUDIT_PAGE } from './audit-log';
import { projectNameProblems } from './project-name';

export const DEFAULT_AUDIT_PAGE = 100;

export interface AuditEventView {
  readonly eventId: string;
  readonly at: string;
  readonly actor: string;
  readonly project: string | null;
  readonly action: string;
  readonly resource: { readonly kind: string; readonly id: string | null };
  readonly outcome: 'ACCEPTED' | 'REFUSED';
  readonly status: number;
  readonly stateBefore: string | null;
  readonly stateAfter: string | null;
  readonly reason: string | null;
  readonly method: string;
  readonly path: string;
  readonly requestId: string;
  readonly clientAddress: string | null;
}

export function auditEventView(e: AuditEvent): AuditEventView {
  return {
    eventId: e.eventId,
    at: e.at.toISOString(),
    actor: e.actor,
    project: e.project ?? null,
    action: e.action,
    resource: { kind: e.resource.kind, id: e.resource.id ?? null },
    outcome: e.outcome === 'accepted' ? 'ACCEPTED' : 'REFUSED',
    status: e.status,
    stateBefore: e.stateBefore ?? null,
    stateAfter: e.stateAfter ?? null,
    reason: e.reason ?? null,
    method: e.method,
    path: e.path,
    requestId: e.requestId,
    clientAddress: e.clientAddress ?? null,
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** The listing query from `?limit=&before=[&project=]`; anything else, or a bad value, is a 400 naming it. */
export function parseAuditQuery(
  query: Readonly<Record<string, unknown>>,
  allowed: readonly ('limit' | 'before' | 'project')[],
): Omit<AuditListQuery, 'project'> & { readonly project?: string } {
  const problems: string[] = [];
  const unknown = Object.keys(query).filter((k) => !(allowed as readonly string[]).includes(k));
  if (unknown.length > 0) problems.push(`unknown query parameter(s): ${unknown.slice(0, 5).join(', ')}`);
  let limit = DEFAULT_AUDIT_PAGE;
  const rawLimit = query['limit'];
  if (rawLimit !== undefined) {
    const n = typeof rawLimit === 'string' && /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(n >= 1 && n <= MAX_AUDIT_PAGE)) problems.push(`limit must be an integer 1..${MAX_AUDIT_PAGE}`);
    else limit = n;
  }
  let before: Date | undefined;
  const rawBefore = query['before'];
  if (rawBefore !== undefined) {
    const t = typeof rawBefore === 'string' && ISO_TIME.test(rawBefore) ? Date.parse(rawBefore) : NaN;
    if (Number.isNaN(t)) problems.push('before must be an ISO 8601 time, e.g. 2026-03-01T10:00:00.000Z');
    else before = new Date(t);
  }
  const rawProject = query['project'];
  let project: string | undefined;
  if (rawProject !== undefined && allowed.includes('project')) {
    const p = projectNameProblems(rawProject, 'project');
    if (p.length > 0) problems.push(...p);
    else project = rawProject as string;
  }
  if (problems.length > 0) throw new AccessValidationError(problems);
  return {
    limit,
    ...(before === undefined ? {} : { before }),
    ...(project === undefined ? {} : { project }),
  };
}
