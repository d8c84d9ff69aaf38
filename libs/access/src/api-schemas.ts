/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 takes them) of the projects and keys API: the request bodies' schemas are
 * checked by `AccessService` (beside the precise checks of `project-name.ts` and `grants.ts`) and shown by
 * job-state's OpenAPI document, with the answers' (`projectView`, `apiKeyView`; docs/api.md).
 */
import type { JsonSchema } from '@tidemark/util';
import { MAX_GRANTS } from './grants';
import { PROJECT_NAME_PATTERN } from './project-name';
import { ROLES } from './role';

const projectName = { type: 'string', pattern: PROJECT_NAME_PATTERN.source, maxLength: 64 };

/** `POST /api/v1/projects`. */
export const CREATE_PROJECT_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: projectName },
};

/** `POST /api/v1/keys`. */
export const CREATE_KEY_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['grants'],
  properties: {
    grants: {
      type: 'object',
      minProperties: 1,
      maxProperties: MAX_GRANTS,
      propertyNames: projectName,
      additionalProperties: { enum: [...ROLES] },
      description: 'project name -> role',
    },
  },
  examples: [{ grants: { shop: 'operator' } }],
};

/** A project as the API shows it. */
export const PROJECT_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name', 'createdAt'],
  properties: { name: { type: 'string' }, createdAt: { type: 'string' } },
};

export const PROJECT_LIST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['projects'],
  properties: { projects: { type: 'array', items: PROJECT_SCHEMA } },
};

const nullableText = { type: ['string', 'null'] };

/** A key as the API shows it: never its secret. */
export const API_KEY_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['id', 'prefix', 'grants', 'createdAt', 'createdBy', 'lastUsedAt', 'revokedAt'],
  properties: {
    id: { type: 'string', pattern: '^[0-9a-f]{12}$' },
    prefix: { type: 'string' },
    grants: { type: 'object', additionalProperties: { enum: [...ROLES] } },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    lastUsedAt: nullableText,
    revokedAt: nullableText,
  },
};

/** The answer of `POST /api/v1/keys`: the record and `key`, the whole key, shown this once. */
export const CREATED_API_KEY_SCHEMA: JsonSchema = {
  type: 'object',
  required: [...(API_KEY_SCHEMA['required'] as string[]), 'key'],
  properties: {
    ...(API_KEY_SCHEMA['properties'] as object),
    key: { type: 'string', description: 'tmk_<id>_<secret>: shown this once, never again' },
  },
};

export const API_KEY_LIST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', items: API_KEY_SCHEMA } },
};

/** `GET /api/v1/projects/:name/audit`, `GET /api/v1/audit`: audit events, newest first (docs/api.md, "Audit"). */
export const AUDIT_LIST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['events'],
  properties: {
    events: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'eventId',
          'at',
          'actor',
          'project',
          'action',
          'resource',
          'outcome',
          'status',
          'requestId',
        ],
        properties: {
          eventId: { type: 'string' },
          at: { type: 'string', description: 'ISO 8601, UTC' },
          actor: { type: 'string', description: 'a key id, "admin", "service" or "anonymous"; never a key' },
          project: { type: ['string', 'null'] },
          action: { type: 'string' },
          resource: {
            type: 'object',
            required: ['kind', 'id'],
            properties: { kind: { type: 'string' }, id: { type: ['string', 'null'] } },
          },
          outcome: { enum: ['ACCEPTED', 'REFUSED'] },
          status: { type: 'integer' },
          stateBefore: { type: ['string', 'null'] },
          stateAfter: { type: ['string', 'null'] },
          reason: { type: ['string', 'null'] },
          method: { type: 'string' },
          path: { type: 'string' },
          requestId: { type: 'string' },
          clientAddress: { type: ['string', 'null'] },
        },
      },
    },
  },
};
