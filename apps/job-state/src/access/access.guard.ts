/**
 * The global guard of job-state (`APP_GUARD`): every request is checked against its route's declaration
 * (`route-access.ts`) before the handler runs.
 *
 * 1. `@PublicRoute()` (probes, `/metrics`): let through.
 * 2. No declaration: refused to everybody, 403 (deny by default).
 * 3. The bearer credential is authenticated (`AccessService.authenticate`): missing, malformed, unknown or revoked
 *    is 401 with the reason and `WWW-Authenticate: Bearer` (the errors filter adds the header).
 * 4. The rule: service routes take only the service credential (anything else 401), and the service credential
 *    reaches nothing else (401) unless the route also accepts it; admin routes 403 for API keys; project routes
 *    find the resource's project: no grant there is the resource's own 404, a grant below the need 403.
 * The caller is then available to the handler (`@Caller()`). Every refusal is recorded in the audit trail
 * (`AuditRecorder.refused`) before it is answered; the client's address goes to `authenticate`, which limits key
 * guessing (429 with `Retry-After`).
 */
import { ForbiddenException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { AccessDeniedError, UnauthenticatedError, accessTo, type AccessService } from '@tidemark/access';
import { PUBLIC_ROUTE } from '@tidemark/service-shell';
import {
  clientAddressOf,
  type AuditHttpRequest,
  type AuditHttpResponse,
  type AuditRecorder,
} from '../audit/audit-recorder';
import type { ResourceProjects } from './resource-projects';
import { ROUTE_ACCESS, rememberCaller, type AccessRequest, type RouteAccess } from './route-access';

export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccessService,
    private readonly resources: ResourceProjects,
    private readonly audit: AuditRecorder,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets) === true) return true;
    const req = ctx.switchToHttp().getRequest<AccessRequest & AuditHttpRequest>();
    try {
      await this.check(ctx, req);
      return true;
    } catch (err) {
      await this.audit.refused(req, ctx.switchToHttp().getResponse<AuditHttpResponse>(), err);
      throw err;
    }
  }

  private async check(ctx: ExecutionContext, req: AccessRequest & AuditHttpRequest): Promise<void> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const rule = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, targets);
    if (rule === undefined || ctx.getType() !== 'http')
      throw new ForbiddenException(
        'this route declares no access rule, so nobody may call it (deny by default)',
      );
    const header = req.headers['authorization'];
    const principal = await this.access.authenticate(
      Array.isArray(header) ? header[0] : header,
      clientAddressOf(req),
    );
    this.audit.rememberPrincipal(req, principal);
    if (rule.kind === 'service') {
      if (principal.kind !== 'service')
        throw new UnauthenticatedError('this route takes the service credential (TIDEMARK_SERVICE_TOKEN)');
    } else if (principal.kind === 'service') {
      if (rule.kind !== 'project' || rule.alsoService?.(req) !== true)
        throw new UnauthenticatedError('the service credential is not an API key: send an API key');
    } else if (rule.kind === 'admin') {
      if (principal.kind !== 'admin') throw new AccessDeniedError('admin', undefined);
    } else if (rule.kind === 'project') {
      const need = typeof rule.need === 'function' ? rule.need(req) : rule.need;
      for (const resource of await this.resources.of(rule.resource, req)) {
        this.audit.rememberProject(req, resource.project);
        const verdict = accessTo(principal, resource.project, need);
        if (verdict === 'hidden') throw resource.hidden();
        if (verdict === 'too-low') throw new AccessDeniedError(need, resource.project);
      }
    }
    rememberCaller(req, principal);
  }
}
