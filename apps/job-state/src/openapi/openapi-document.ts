/**
 * job-state's OpenAPI 3.1 document, generated from the running app's controllers by `@nestjs/swagger` (which
 * emits 3.1 when asked: `setOpenAPIVersion`) with the decorators of `api-docs.ts`; built once when the app starts
 * (`configureApi`), before it listens, and served by `OpenApiController`. Only the API's own routes are in it: the
 * probes and `/metrics` (service-shell) are not part of the API.
 */
import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { ParameterObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

export const OPENAPI_VERSION = '3.1.0';
export const OPENAPI_PATH = '/api/v1/openapi.json';

/** Holds the document for the controller; filled once at start-up. */
export class OpenApiDocument {
  private doc: OpenAPIObject | undefined;

  set(doc: OpenAPIObject): void {
    this.doc = doc;
  }

  get(): OpenAPIObject {
    if (this.doc === undefined) throw new Error('the OpenAPI document was not built at start-up');
    return this.doc;
  }
}

/** The document of the routes of `modules` (and only those). */
export function buildOpenApiDocument(app: INestApplication, modules: Type<unknown>[]): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion(OPENAPI_VERSION)
    .setTitle('Tidemark job-state')
    .setDescription(
      'Backup jobs, snapshots, restores, projects and API keys (docs/api.md). Every route but this document ' +
        'takes `Authorization: Bearer <credential>`. Fields of answers are only ever added.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'tmk_<id>_<secret>',
        description: 'an API key (tmk_<id>_<secret>), the admin key or the service token',
      },
      'bearer',
    )
    .build();
  return withPathParameters(SwaggerModule.createDocument(app, config, { include: modules }));
}

/**
 * Declares every `{name}` of every path as a required string path parameter where the decorators did not (the
 * swagger module finds `@Param()`s through TypeScript's emitted parameter types, which tsx does not emit), so no
 * route of the document lacks one.
 */
export function withPathParameters(doc: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (op === undefined) continue;
      const params = (op.parameters ?? []) as ParameterObject[];
      for (const name of names)
        if (!params.some((p) => p.in === 'path' && p.name === name))
          params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
      op.parameters = params;
    }
  }
  return doc;
}
