/**
 * Creating a job: the request body `{ project, source: { uri }, include?, exclude?, schedule?, snapshotStore?,
 * readLimit? }` checked into a
 * {@link CreateJobInput}, and the new job (state `inactive`, no sync yet). Every problem is reported at once, as
 * sentences the API returns with 400.
 *
 * The source URI must carry no credentials: it is shown, logged and sent on `tidemark.commands`. The agent adds
 * the credentials it holds for the source's hosts (`docs/services.md`, "Source credentials").
 */
import {
  DEFAULT_SNAPSHOT_SCHEDULE,
  DEFAULT_SNAPSHOT_STORE,
  uriHasCredentials,
  validateBackupJob,
  validateNamespaceFilters,
  validateSnapshotSchedule,
  validateSnapshotStoreSpec,
  validateReadLimit,
  type ReadLimit,
  type SnapshotSchedule,
  type SnapshotStoreSpec,
} from '@tidemark/domain';
import { mergeProblems, schemaCheck } from '@tidemark/util';
import { CREATE_JOB_REQUEST_SCHEMA } from './api-schemas';
import { JobValidationError } from './job-errors';
import type { JobRecord } from './job-record';

export interface CreateJobInput {
  readonly project: string;
  /** `mongodb://` or `mongodb+srv://`, without credentials. */
  readonly sourceUri: string;
  /** Namespaces (`db` or `db.coll`) to back up; empty means all. */
  readonly include: readonly string[];
  /** Namespaces left out; wins over `include`. */
  readonly exclude: readonly string[];
  /** Default {@link DEFAULT_SNAPSHOT_SCHEDULE}; a request may give only some fields (the rest are defaults). */
  readonly schedule?: SnapshotSchedule;
  /** Default {@link DEFAULT_SNAPSHOT_STORE} (the blockstore). */
  readonly snapshotStore?: SnapshotStoreSpec;
  /** MB/s the agent may read from the source (`@tidemark/domain` `read-limit.ts`); absent: uncapped. */
  readonly readLimit?: ReadLimit;
}

/** The sentence for a source URI with credentials in it. */
export const CREDENTIALS_IN_URI =
  'source.uri must not contain credentials (user:password@ or an AWS session token): give them to the agent ' +
  'instead, in its environment as TIDEMARK_SOURCE_USERNAME and TIDEMARK_SOURCE_PASSWORD (or per source in ' +
  'TIDEMARK_SOURCE_CREDENTIALS_FILE)';

const MAX_PROJECT_LENGTH = 200;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(body: Record<string, unknown>, key: string, problems: string[]): string[] {
  const value = body[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    problems.push(`${key} must be an array of namespaces ("db" or "db.collection")`);
    return [];
  }
  return value as string[];
}

const SCHEDULE_FIELDS = ['intervalMinutes', 'retention', 'pointInTimeWindowHours'];
const RETENTION_FIELDS = ['baseMinutes', 'daily', 'weekly', 'monthly'];
const STORE_FIELDS = ['kind', 'path', 'encryptionKeyFile'];

/** A field the object does not take is refused, not ignored: a misspelt setting must not silently default. */
function unknownFields(name: string, value: unknown, known: readonly string[], problems: string[]): void {
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      problems.push(`${name}.${key} is not a field (${name} takes ${known.join(', ')})`);
  }
}

const checkCreateJobSchema = schemaCheck(CREATE_JOB_REQUEST_SCHEMA);

/**
 * Checks a request body against {@link CREATE_JOB_REQUEST_SCHEMA} (types, sizes, fields) and the rules below (URIs,
 * namespaces, schedule); throws {@link JobValidationError} listing every problem.
 */
export function parseCreateJobRequest(body: unknown): CreateJobInput {
  return withSchema(checkCreateJobSchema(body), () => checkCreateJobRequest(body));
}

/** The hand-written checks' result, or their precise problems merged with the schema's. */
function withSchema<T>(structural: string[], check: () => T): T {
  let parsed: T;
  try {
    parsed = check();
  } catch (err) {
    if (err instanceof JobValidationError)
      throw new JobValidationError(mergeProblems(err.problems, structural));
    throw err;
  }
  if (structural.length > 0) throw new JobValidationError(structural);
  return parsed;
}

function checkCreateJobRequest(body: unknown): CreateJobInput {
  if (!isRecord(body)) throw new JobValidationError(['the body must be a JSON object']);
  const problems: string[] = [];
  const project = body['project'];
  if (typeof project !== 'string') problems.push('project is required (a string)');
  const source = body['source'];
  const uri = isRecord(source) ? source['uri'] : undefined;
  if (typeof uri !== 'string') problems.push('source.uri is required (a mongodb:// or mongodb+srv:// URI)');
  const include = stringList(body, 'include', problems);
  const exclude = stringList(body, 'exclude', problems);
  const schedule = body['schedule'];
  if (schedule !== undefined && !isRecord(schedule)) problems.push('schedule must be an object');
  const retention = isRecord(schedule) ? schedule['retention'] : undefined;
  if (retention !== undefined && !isRecord(retention)) problems.push('schedule.retention must be an object');
  const store = body['snapshotStore'];
  if (store !== undefined && !isRecord(store)) problems.push('snapshotStore must be an object');
  const readLimit = body['readLimit'];
  problems.push(...validateReadLimit(readLimit));
  unknownFields('schedule', schedule, SCHEDULE_FIELDS, problems);
  unknownFields('schedule.retention', retention, RETENTION_FIELDS, problems);
  unknownFields('snapshotStore', store, STORE_FIELDS, problems);
  if (problems.length > 0) throw new JobValidationError(problems);
  const input: CreateJobInput = {
    project: project as string,
    sourceUri: uri as string,
    include,
    exclude,
    ...(isRecord(schedule) ? { schedule: scheduleOf(schedule, isRecord(retention) ? retention : {}) } : {}),
    ...(isRecord(store) ? { snapshotStore: storeOf(store) } : {}),
    ...(typeof readLimit === 'number' ? { readLimit } : {}),
  };
  const invalid = validateCreateJobInput(input);
  if (invalid.length > 0) throw new JobValidationError(invalid);
  return input;
}

/** Problems with an input, as sentences; empty when valid. */
export function validateCreateJobInput(input: CreateJobInput): string[] {
  const problems: string[] = [];
  const project = input.project.trim();
  if (project === '') problems.push('project is empty');
  if (project.length > MAX_PROJECT_LENGTH)
    problems.push(`project is longer than ${MAX_PROJECT_LENGTH} characters`);
  if (/\p{Cc}/u.test(input.project)) problems.push('project contains control characters');
  const credentials = uriHasCredentials(input.sourceUri);
  if (credentials === undefined) problems.push('source.uri must start with mongodb:// or mongodb+srv://');
  if (credentials === true) problems.push(CREDENTIALS_IN_URI);
  problems.push(...validateNamespaceFilters({ include: input.include, exclude: input.exclude }));
  if (input.schedule !== undefined) {
    problems.push(...validateSnapshotSchedule(input.schedule).map((p) => `schedule.${p}`));
  }
  if (input.snapshotStore !== undefined) {
    problems.push(...validateSnapshotStoreSpec(input.snapshotStore).map((p) => `snapshotStore.${p}`));
  }
  problems.push(...validateReadLimit(input.readLimit));
  return problems;
}

/** A new job: state `inactive`, no sync. Throws {@link JobValidationError} for an invalid input. */
export function newJobRecord(input: CreateJobInput, id: string, now: Date): JobRecord {
  const problems = validateCreateJobInput(input);
  if (problems.length > 0) throw new JobValidationError(problems);
  const job: JobRecord = {
    id,
    project: input.project.trim(),
    source: { uri: input.sourceUri, auth: undefined },
    namespaces: { include: [...input.include], exclude: [...input.exclude] },
    schedule: input.schedule ?? DEFAULT_SNAPSHOT_SCHEDULE,
    snapshotStore: input.snapshotStore ?? DEFAULT_SNAPSHOT_STORE,
    ...(input.readLimit === undefined ? {} : { readLimit: input.readLimit }),
    state: 'inactive',
    phase: undefined,
    syncId: undefined,
    syncNo: 0,
    progress: [],
    details: {},
    sourceTs: undefined,
    alerts: [],
    blocked: undefined,
    outbox: [],
    deletedThrough: 0,
    pendingDeletionThrough: 0,
    revision: 1,
    createdAt: now,
    updatedAt: now,
  };
  const rest = validateBackupJob(job);
  if (rest.length > 0) throw new JobValidationError(rest);
  return job;
}

/** The schedule a request gives, over the defaults; only known fields are taken (values are checked later). */
function scheduleOf(s: Record<string, unknown>, r: Record<string, unknown>): SnapshotSchedule {
  const d = DEFAULT_SNAPSHOT_SCHEDULE;
  const pick = (from: Record<string, unknown>, key: string, fallback: number): number =>
    (from[key] === undefined ? fallback : from[key]) as number;
  return {
    intervalMinutes: pick(s, 'intervalMinutes', d.intervalMinutes),
    retention: {
      baseMinutes: pick(r, 'baseMinutes', d.retention.baseMinutes),
      daily: pick(r, 'daily', d.retention.daily),
      weekly: pick(r, 'weekly', d.retention.weekly),
      monthly: pick(r, 'monthly', d.retention.monthly),
    },
    pointInTimeWindowHours: pick(s, 'pointInTimeWindowHours', d.pointInTimeWindowHours),
  };
}

/** The store a request names; only known fields are taken (values are checked later). */
function storeOf(s: Record<string, unknown>): SnapshotStoreSpec {
  return {
    kind: (s['kind'] ?? DEFAULT_SNAPSHOT_STORE.kind) as SnapshotStoreSpec['kind'],
    ...(s['path'] === undefined ? {} : { path: s['path'] as string }),
    ...(s['encryptionKeyFile'] === undefined ? {} : { encryptionKeyFile: s['encryptionKeyFile'] as string }),
  };
}
