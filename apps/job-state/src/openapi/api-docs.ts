/**
 * What job-state's OpenAPI document says of each route, as decorators next to the handlers (`@nestjs/swagger`): the
 * answer's schema, every error status the route can give with the error body, and the bearer credential. The
 * schemas themselves live in the libraries (`@tidemark/jobs`, `@tidemark/access` `api-schemas.ts`); the request
 * bodies' are the ones those libraries check bodies against, so the document and the validation cannot drift.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse } from '@nestjs/swagger';
import type { JsonSchema } from '@tidemark/util';

/** Every error answer: `{ statusCode, message, error }`, `problems` for invalid bodies, `requiredRole` for 403. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['statusCode', 'message'],
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599 },
    message: { type: 'string', description: 'the reason' },
    error: { type: 'string', description: 'the status text' },
    problems: { type: 'array', items: { type: 'string' }, description: 'every problem of an invalid body' },
    requiredRole: { type: 'string', description: 'the role the action needs (403)' },
    state: { type: 'string', description: "the job's state (409 for an action it does not allow)" },
    allowedActions: {
      type: 'array',
      items: { type: 'string' },
      description: 'the actions that state allows (409 for an action it does not allow)',
    },
  },
};

const ERROR_WHEN: Readonly<Record<number, string>> = {
  400: 'invalid body, query or path (each reason stated), malformed JSON, or a body nested too deep',
  401: 'no credential, or a malformed, unknown, revoked or wrong kind of credential',
  403: 'the role is below what the action needs (or the route needs the admin key)',
  404: 'no such resource, or one of a project the key holds no grant on (the same answer)',
  409: 'the state does not allow it, or it exists already',
  413: 'the body is larger than the API takes',
  415: 'the body is not JSON (another content type, or a charset the API does not read)',
  429: 'too many failed authentications from this address or for this key id (with Retry-After)',
  503: 'a dependency failed in a way a retry can fix',
};

/** Errors every authenticated route can give, whatever it does. */
const ALWAYS = [400, 401, 413, 415, 429, 503];

/** The route's errors (besides {@link ALWAYS}), each with {@link ERROR_SCHEMA}. */
export function ApiErrors(...statuses: number[]): MethodDecorator {
  const all = [...new Set([...ALWAYS, ...statuses])].sort();
  return applyDecorators(
    ...all.map((status) =>
      ApiResponse({ status, description: ERROR_WHEN[status], schema: ERROR_SCHEMA as object }),
    ),
  );
}

/** The route's answer: `status` with a JSON body of `schema`. */
export function ApiAnswer(status: number, schema: JsonSchema, description = 'OK'): MethodDecorator {
  return ApiResponse({ status, description, schema: schema as object });
}

/** The request body, a JSON object of `schema` (the schema the handler's parser checks it against). */
export function ApiJsonBody(schema: JsonSchema, required = true): MethodDecorator {
  return ApiBody({ schema: schema as object, required });
}

/** A route that takes a bearer credential (an API key, the admin key or the service token: docs/api.md). */
export const ApiKeyAuth = (): ClassDecorator & MethodDecorator => ApiBearerAuth('bearer');
