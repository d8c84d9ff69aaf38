/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 takes them) of the jobs, snapshots and restores API: each request body's
 * schema is the one the parsers check bodies against (`create-job-input.ts`, `job-settings.ts`, `restore-input.ts`,
 * `parseResyncRequest`) and the one job-state's OpenAPI document shows; the answers' schemas describe `views.ts`,
 * `snapshotView` and `restoreView` (docs/api.md). Answers are open (`additionalProperties` allowed): fields are only
 * ever added. Requests are closed where a misspelt field must not silently default.
 */
import {
  MAX_READ_LIMIT,
  MAX_SNAPSHOT_INTERVAL_MINUTES,
  MIN_READ_LIMIT,
  MIN_SNAPSHOT_INTERVAL_MINUTES,
  PHASES,
  SNAPSHOT_STORE_KINDS,
} from '@tidemark/domain';
import type { JsonSchema } from '@tidemark/util';

/** The longest string any field of a request body takes (URIs, reasons, paths, ids). */
export const MAX_TEXT_FIELD = 4096;
/** The most namespaces a list (`include`, `exclude`, `renames`) or a progress report may name. */
export const MAX_NAMESPACE_LIST = 1000;
export const MAX_PROGRESS_NAMESPACES = 100_000;
/** MongoDB's own bound on a namespace (`db.collection`), in bytes; characters here. */
export const MAX_NAMESPACE_LENGTH = 255;

const nullable = (type: string): { type: string[] } => ({ type: [type, 'null'] });
const count = { type: 'integer', minimum: 0 };
const int64Text = {
  type: 'string',
  pattern: '^[0-9]+$',
  description: 'a non-negative Int64 as a decimal string',
};
const opTimeText = { type: 'string', pattern: '^[0-9]+:[0-9]+$', description: 'an oplog position t:i' };
const isoTime = { type: 'string', description: 'ISO 8601, UTC' };
const mongoUri = {
  type: 'string',
  maxLength: MAX_TEXT_FIELD,
  pattern: '^mongodb(\\+srv)?://',
  description: 'a mongodb:// or mongodb+srv:// URI without credentials',
};
const namespaceList = {
  type: ['array', 'null'],
  maxItems: MAX_NAMESPACE_LIST,
  items: { type: 'string', minLength: 1, maxLength: MAX_NAMESPACE_LENGTH },
  description: 'namespaces, "db" or "db.collection"',
};
const readLimit = {
  type: ['number', 'null'],
  minimum: MIN_READ_LIMIT,
  maximum: MAX_READ_LIMIT,
  description: 'MB/s (decimal) the agent may read from the source; null: uncapped',
};
const absolutePath = { type: 'string', maxLength: 1024, pattern: '^/' };

/** `POST /api/v1/jobs`. */
export const CREATE_JOB_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['project', 'source'],
  properties: {
    project: { type: 'string', minLength: 1, maxLength: 64, description: 'an existing project' },
    source: {
      type: 'object',
      required: ['uri'],
      additionalProperties: false,
      properties: { uri: mongoUri },
    },
    include: namespaceList,
    exclude: namespaceList,
    schedule: {
      type: 'object',
      additionalProperties: false,
      properties: {
        intervalMinutes: {
          type: 'integer',
          minimum: MIN_SNAPSHOT_INTERVAL_MINUTES,
          maximum: MAX_SNAPSHOT_INTERVAL_MINUTES,
        },
        retention: {
          type: 'object',
          additionalProperties: false,
          properties: {
            baseMinutes: { type: 'integer', minimum: 1 },
            daily: count,
            weekly: count,
            monthly: count,
          },
        },
        pointInTimeWindowHours: count,
      },
    },
    snapshotStore: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { enum: [...SNAPSHOT_STORE_KINDS] },
        path: absolutePath,
        encryptionKeyFile: absolutePath,
      },
    },
    readLimit,
  },
  examples: [
    {
      project: 'shop',
      source: { uri: 'mongodb://127.0.0.1:27117/?replicaSet=rs0' },
      include: ['app'],
    },
  ],
};

/** `PATCH /api/v1/jobs/:id/settings`. */
export const JOB_SETTINGS_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { readLimit },
};

/** The longest reason a resync takes. */
export const MAX_RESYNC_REASON = 1_000;

/** `POST /api/v1/jobs/:id/{action}`: only `resync` reads it. */
export const JOB_ACTION_REQUEST_SCHEMA: JsonSchema = {
  type: ['object', 'null'],
  properties: { reason: { type: 'string', maxLength: MAX_RESYNC_REASON } },
};

const restoreNames = {
  type: 'array',
  maxItems: MAX_NAMESPACE_LIST,
  items: { type: 'string', minLength: 1, maxLength: MAX_NAMESPACE_LENGTH },
};
const restoreText = { type: 'string', minLength: 1, maxLength: MAX_TEXT_FIELD };

/** `POST /api/v1/restores`. */
export const BEGIN_RESTORE_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: {
    snapshotId: restoreText,
    jobId: restoreText,
    point: { ...restoreText, description: 'an ISO instant with a timezone, or an oplog position t:i' },
    target: {
      ...restoreText,
      pattern: '^(mongodb(\\+srv)?|file)://',
      description: 'a mongodb:// or mongodb+srv:// URI, or a file:// URI (a dump directory or archive)',
    },
    include: restoreNames,
    exclude: restoreNames,
    renames: { ...restoreNames, description: 'FROM=TO' },
    drop: { type: 'boolean' },
  },
};

const namespaceProgress = {
  type: 'object',
  additionalProperties: false,
  required: ['documents', 'done'],
  properties: { documents: count, done: { type: 'boolean' } },
};

/** `POST /api/v1/restores/:id/progress`, and `progress` of a finish. */
export const RESTORE_PROGRESS_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['documents', 'bytes', 'entries'],
  properties: {
    documents: count,
    bytes: count,
    entries: count,
    namespaces: {
      type: 'object',
      maxProperties: MAX_PROGRESS_NAMESPACES,
      propertyNames: { maxLength: MAX_NAMESPACE_LENGTH },
      additionalProperties: namespaceProgress,
    },
  },
};

/** `POST /api/v1/restores/:id/finish`. */
export const FINISH_RESTORE_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['state'],
  properties: {
    state: { enum: ['complete', 'failed', 'cancelled'] },
    reason: restoreText,
    progress: RESTORE_PROGRESS_REQUEST_SCHEMA,
    snapshotId: restoreText,
    at: {
      type: 'object',
      required: ['opTime'],
      properties: { opTime: { type: 'string', maxLength: 64 }, wallTime: nullable('string') },
    },
  },
};

// ---- answers

const JOB_STATES = ['inactive', 'initial-sync', 'active', 'stopped'];
const phase = { type: ['string', 'null'], enum: [...PHASES, null] };
const alert = {
  type: 'object',
  required: ['alertId', 'code', 'severity', 'message', 'context', 'syncId', 'at'],
  properties: {
    alertId: { type: 'string' },
    code: { type: 'string' },
    severity: { type: 'string' },
    message: { type: 'string' },
    context: { type: 'object', additionalProperties: { type: 'string' } },
    syncId: nullable('string'),
    at: isoTime,
  },
};
const block = {
  type: ['object', 'null'],
  required: ['code', 'message', 'alertId', 'at'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    alertId: { type: 'string' },
    at: isoTime,
  },
};
const filters = {
  type: 'object',
  required: ['include', 'exclude'],
  properties: {
    include: { type: 'array', items: { type: 'string' } },
    exclude: { type: 'array', items: { type: 'string' } },
  },
};

/** A `Job` (docs/api.md). */
export const JOB_SCHEMA: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'project',
    'source',
    'filters',
    'schedule',
    'snapshotStore',
    'readLimit',
    'state',
    'phase',
    'syncId',
    'syncNo',
    'allowedActions',
    'blocked',
    'alerts',
    'pendingEffects',
    'createdAt',
    'updatedAt',
  ],
  properties: {
    id: { type: 'string' },
    project: { type: 'string' },
    source: { type: 'object', required: ['uri'], properties: { uri: { type: 'string' } } },
    filters,
    schedule: {
      type: 'object',
      required: ['intervalMinutes', 'retention', 'pointInTimeWindowHours'],
      properties: {
        intervalMinutes: { type: 'integer' },
        retention: {
          type: 'object',
          properties: {
            baseMinutes: { type: 'integer' },
            daily: { type: 'integer' },
            weekly: { type: 'integer' },
            monthly: { type: 'integer' },
          },
        },
        pointInTimeWindowHours: { type: 'integer' },
      },
    },
    snapshotStore: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { enum: [...SNAPSHOT_STORE_KINDS] } },
    },
    readLimit: nullable('number'),
    state: { enum: JOB_STATES },
    phase,
    syncId: nullable('string'),
    syncNo: { type: 'integer', minimum: 0 },
    allowedActions: { type: 'array', items: { type: 'string' } },
    blocked: block,
    alerts: { type: 'array', items: alert },
    pendingEffects: { type: 'boolean' },
    createdAt: isoTime,
    updatedAt: isoTime,
  },
};

/** `GET /api/v1/jobs/:id/retained`: what the job retains, so what `terminate` deletes. */
export const RETAINED_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['jobId', 'snapshots', 'oplogSlices', 'headDatabases'],
  properties: {
    jobId: { type: 'string' },
    snapshots: {
      type: 'object',
      required: ['count', 'logicalBytes', 'storedBytes'],
      properties: { count, logicalBytes: int64Text, storedBytes: int64Text },
    },
    oplogSlices: {
      type: 'object',
      required: ['count', 'bytes'],
      properties: { count, bytes: int64Text },
    },
    headDatabases: { type: 'array', items: { type: 'string' } },
  },
};

/** A job action's answer: the job after it; `terminate` adds `deleting` (what it deletes). */
export const JOB_ACTION_ANSWER_SCHEMA: JsonSchema = {
  ...JOB_SCHEMA,
  properties: { ...(JOB_SCHEMA['properties'] as Record<string, unknown>), deleting: RETAINED_SCHEMA },
};

export const JOB_LIST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['jobs'],
  properties: { jobs: { type: 'array', items: JOB_SCHEMA } },
};

const lastVerify = {
  type: ['object', 'null'],
  required: ['requestId', 'ok', 'damagedBlocks', 'reason', 'at'],
  properties: {
    requestId: nullable('string'),
    ok: { type: 'boolean' },
    damagedBlocks: { type: 'integer' },
    reason: nullable('string'),
    at: isoTime,
  },
};

/** A `Snapshot` (docs/api.md). */
export const SNAPSHOT_SCHEMA: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'jobId',
    'state',
    'opTime',
    'opWallTime',
    'takenAt',
    'completedAt',
    'store',
    'logicalBytes',
    'storedBytes',
    'namespaces',
    'documents',
    'manifestChecksum',
    'reason',
    'lastVerify',
  ],
  properties: {
    id: { type: 'string' },
    jobId: { type: 'string' },
    state: { enum: ['requested', 'in-progress', 'complete', 'failed', 'expired', 'deleted'] },
    opTime: { type: ['string', 'null'], pattern: opTimeText.pattern },
    opWallTime: nullable('string'),
    takenAt: nullable('string'),
    completedAt: nullable('string'),
    store: { enum: [...SNAPSHOT_STORE_KINDS] },
    logicalBytes: count,
    storedBytes: count,
    namespaces: count,
    documents: count,
    manifestChecksum: nullable('string'),
    reason: nullable('string'),
    lastVerify,
  },
};

export const SNAPSHOT_LIST_SCHEMA: JsonSchema = { type: 'array', items: SNAPSHOT_SCHEMA };

/** The answer of a verify or delete request (202). */
export const SNAPSHOT_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['snapshotId', 'requestId'],
  properties: { snapshotId: { type: 'string' }, requestId: { type: 'string' } },
};

const counters = {
  docsCopied: int64Text,
  docsTotal: { type: ['string', 'null'], pattern: int64Text.pattern },
  bytesCopied: int64Text,
  bytesTotal: { type: ['string', 'null'], pattern: int64Text.pattern },
  percent: { type: ['number', 'null'], minimum: 0, maximum: 100 },
};
const position = {
  type: 'object',
  required: ['opTime', 'wallTime'],
  properties: { opTime: opTimeText, wallTime: nullable('string') },
};

/** `GET /api/v1/jobs/:id/status` (docs/api.md): the stable status contract. */
export const JOB_STATUS_SCHEMA: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'project',
    'state',
    'phase',
    'syncId',
    'syncNo',
    'progress',
    'appliedOpTime',
    'lag',
    'head',
    'source',
    'alerts',
    'blocked',
    'lastSnapshot',
    'snapshots',
    'restorableWindow',
    'readLimit',
  ],
  properties: {
    id: { type: 'string' },
    project: { type: 'string' },
    state: { enum: JOB_STATES },
    phase,
    syncId: nullable('string'),
    syncNo: { type: 'integer', minimum: 0 },
    progress: {
      type: 'object',
      required: ['docsCopied', 'docsTotal', 'bytesCopied', 'bytesTotal', 'percent', 'stage', 'namespaces'],
      properties: {
        ...counters,
        stage: nullable('string'),
        namespaces: {
          type: 'array',
          items: {
            type: 'object',
            required: ['namespace'],
            properties: { namespace: { type: 'string' }, ...counters },
          },
        },
      },
    },
    appliedOpTime: { type: ['string', 'null'], pattern: opTimeText.pattern },
    lag: {
      type: 'object',
      required: ['seconds', 'entries'],
      properties: { seconds: nullable('integer'), entries: nullable('integer') },
    },
    head: {
      type: 'object',
      required: ['uri', 'namespaces'],
      properties: {
        uri: { type: 'string' },
        namespaces: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    source: {
      type: ['object', 'null'],
      properties: { serverVersion: nullable('string'), featureCompatibilityVersion: nullable('string') },
    },
    alerts: { type: 'array', items: alert },
    blocked: block,
    lastSnapshot: { anyOf: [SNAPSHOT_SCHEMA, { type: 'null' }] },
    snapshots: count,
    restorableWindow: {
      type: ['object', 'null'],
      required: ['from', 'to'],
      properties: { from: position, to: position },
    },
    readLimit: nullable('number'),
  },
};

/** `GET /api/v1/jobs/:id/resume`, the agent's. */
export const JOB_RESUME_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['id', 'syncId', 'syncNo', 'state', 'phase', 'startTs', 'resumeTs'],
  properties: {
    id: { type: 'string' },
    syncId: nullable('string'),
    syncNo: { type: 'integer' },
    state: { enum: JOB_STATES },
    phase,
    startTs: nullable('string'),
    resumeTs: nullable('string'),
  },
};

/** `GET /api/v1/agent/jobs`. */
export const AGENT_JOBS_SCHEMA: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'state', 'phase', 'syncId', 'syncNo', 'source', 'filters', 'readLimit'],
    properties: {
      id: { type: 'string' },
      state: { enum: JOB_STATES },
      phase,
      syncId: nullable('string'),
      syncNo: { type: 'integer' },
      source: { type: 'object', required: ['uri'], properties: { uri: { type: 'string' } } },
      filters,
      readLimit: nullable('number'),
    },
  },
};

/** A `Restore` (docs/api.md). */
export const RESTORE_SCHEMA: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'jobId',
    'kind',
    'state',
    'cancelRequested',
    'snapshotId',
    'point',
    'at',
    'target',
    'include',
    'exclude',
    'renames',
    'drop',
    'documents',
    'bytes',
    'entries',
    'namespaces',
    'reason',
    'startedAt',
    'updatedAt',
    'endedAt',
  ],
  properties: {
    id: { type: 'string' },
    jobId: { type: 'string' },
    kind: { enum: ['snapshot', 'point-in-time'] },
    state: { enum: ['running', 'complete', 'failed', 'cancelled'] },
    cancelRequested: { type: 'boolean' },
    snapshotId: nullable('string'),
    point: nullable('string'),
    at: { anyOf: [position, { type: 'null' }] },
    target: { type: 'string' },
    include: { type: 'array', items: { type: 'string' } },
    exclude: { type: 'array', items: { type: 'string' } },
    renames: { type: 'array', items: { type: 'string' } },
    drop: { type: 'boolean' },
    documents: count,
    bytes: count,
    entries: count,
    namespaces: { type: 'object', additionalProperties: namespaceProgress },
    reason: nullable('string'),
    startedAt: isoTime,
    updatedAt: isoTime,
    endedAt: nullable('string'),
  },
};

export const RESTORE_LIST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['restores'],
  properties: { restores: { type: 'array', items: RESTORE_SCHEMA } },
};

/** `GET /api/v1/projects/:name/alerts`, `GET /api/v1/jobs/:id/alerts` (docs/api.md, "Alerts"). */
export const ALERT_LIST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['alerts'],
  properties: {
    alerts: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'alertId',
          'jobId',
          'project',
          'code',
          'subject',
          'severity',
          'state',
          'message',
          'openedAt',
        ],
        properties: {
          alertId: { type: 'string' },
          jobId: nullable('string'),
          project: nullable('string'),
          code: { type: 'string' },
          subject: { type: 'string' },
          severity: { type: 'string' },
          state: { enum: ['open', 'closed'] },
          message: { type: 'string' },
          context: { type: 'object', additionalProperties: { type: 'string' } },
          openedAt: isoTime,
          closedAt: nullable('string'),
          closeReason: nullable('string'),
        },
      },
    },
  },
};

/** `POST /api/v1/agent/capture` (the agent, service token): where each running job's capture is. */
export const AGENT_CAPTURE_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['positions'],
  properties: {
    positions: {
      type: 'array',
      maxItems: 10_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['jobId', 'syncId', 'sourceTs', 'shippedTs'],
        properties: {
          jobId: { type: 'string', pattern: '^[a-z0-9]{1,64}$' },
          syncId: { type: 'string', maxLength: 100 },
          sourceTs: opTimeText,
          shippedTs: opTimeText,
        },
      },
    },
  },
};
