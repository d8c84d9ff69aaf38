/**
 * `@PublicRoute()`: a route any caller may reach without a credential (the probes and `/metrics`, which the
 * orchestrator and Prometheus call). job-state's access guard lets exactly these through unauthenticated and
 * refuses every other route that declares no access rule; other services have no guard, so there it only
 * documents the route.
 */
import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'tidemark:public-route';

export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
