/**
 * What each route of job-state needs, declared on the route itself (docs/api.md, "Access"). The access guard
 * (`access.guard.ts`) reads the declaration; a route without one is refused to everybody (deny by default), so a
 * new route cannot be reached before someone decides who may call it.
 *
 * - `@Access.public()`: no credential at all (the Backup page's static files, which hold no data: the page's own
 *   API calls carry the user's key); the same mark as the probes' `@PublicRoute()`.
 * - `@Access.service()`: the services' own credential only (`TIDEMARK_SERVICE_TOKEN`); any API key gets 401.
 * - `@Access.admin()`: the admin key only; an API key gets 403.
 * - `@Access.signedIn()`: any API key or the admin key; the handler shows only the caller's projects (`@Caller()`).
 * - `@Access.project(need, resource)`: the role `need` (or `admin`) on the project of `resource`, found from the
 *   request (see {@link ResourceRef}); a caller without a grant there gets the resource's own 404.
 */
import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Principal, Requirement } from '@tidemark/access';
import { PUBLIC_ROUTE } from '@tidemark/service-shell';

export const ROUTE_ACCESS = 'tidemark:route-access';

/** Where a route's project is found. */
export type ResourceRef =
  /** `:id` is a job id. */
  | 'job'
  /** `:sid` is a snapshot id: its job's project. */
  | 'snapshot'
  /** `:id` is a restore id: its job's project. */
  | 'restore'
  /** `:name` is the project. */
  | 'project'
  /** the body's `project` (creating a job): the project must exist. */
  | 'body-project'
  /** the body's `snapshotId` and / or `jobId` (beginning a restore). */
  | 'restore-body'
  /** the query's `job` when given (one job's restores); without it the handler lists the caller's projects. */
  | 'job-query';

/** The request as the access rules see it. */
export interface AccessRequest {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type RouteAccess =
  | { readonly kind: 'service' }
  | { readonly kind: 'admin' }
  | { readonly kind: 'signed-in' }
  | {
      readonly kind: 'project';
      readonly need: Requirement | ((req: AccessRequest) => Requirement);
      readonly resource: ResourceRef;
      /** Also the service credential (the agent's own calls of a user route). */
      readonly alsoService?: (req: AccessRequest) => boolean;
    };

type Decorator = MethodDecorator & ClassDecorator;

/** The OpenAPI extension that shows a route's rule in job-state's document (`x-tidemark-access`). */
export const ACCESS_EXTENSION = 'x-tidemark-access';

/** The rule, and the same rule as the OpenAPI document states it (`need` "depends" when the request decides). */
function declare(rule: RouteAccess): Decorator {
  const shown =
    rule.kind === 'project'
      ? {
          kind: rule.kind,
          need: typeof rule.need === 'function' ? 'depends' : rule.need,
          resource: rule.resource,
          alsoService: rule.alsoService !== undefined,
        }
      : { kind: rule.kind };
  return applyDecorators(SetMetadata(ROUTE_ACCESS, rule), ApiExtension(ACCESS_EXTENSION, shown)) as Decorator;
}

export const Access = {
  public: (): Decorator => SetMetadata(PUBLIC_ROUTE, true),
  service: (): Decorator => declare({ kind: 'service' }),
  admin: (): Decorator => declare({ kind: 'admin' }),
  signedIn: (): Decorator => declare({ kind: 'signed-in' }),
  project: (
    need: Requirement | ((req: AccessRequest) => Requirement),
    resource: ResourceRef,
    options: { alsoService?: (req: AccessRequest) => boolean } = {},
  ): Decorator => declare({ kind: 'project', need, resource, ...options }),
};

/** Where the guard leaves the caller of a request it let through. */
const callers = new WeakMap<object, Principal>();

export function rememberCaller(req: object, principal: Principal): void {
  callers.set(req, principal);
}

/** The authenticated caller, as a handler parameter (`@Caller() caller: Principal`). */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = callers.get(ctx.switchToHttp().getRequest<object>());
  if (principal === undefined) throw new Error('no caller: the access guard did not run for this route');
  return principal;
});
