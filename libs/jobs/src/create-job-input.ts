/**
 * Creating a job: the request body `{ project, source: { uri }, include?, exclude?, schedule? }` checked into a
 * {@link CreateJobInput}, and the new job (state `inactive`, no sync yet). Every problem is reported at once, as
 * sentences the API returns with 400.
 *
 * The source URI must carry no credentials: it is shown, logged and sent on `tidemark.commands`. The agent adds
 * them from its own environment (`TIDEMARK_SOURCE_USERNAME` / `TIDEMARK_SOURCE_PASSWORD`).
 */
import {
  DEFAULT_SNAPSHOT_SCHEDULE,
  uriHasCredentials,
  validateBackupJob,
  validateNamespaceFilters,
  validateSnapshotSchedule,
  type SnapshotSchedule,
} from '@tidemark/domain';
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
  /** Default {@link DEFAULT_SNAPSHOT_SCHEDULE}. */
  readonly schedule?: SnapshotSchedule;
}

/** The sentence for a source URI with credentials in it. */
export const CREDENTIALS_IN_URI =
  'source.uri must not contain credentials (user:password@ or an AWS session token): give them to the agent ' +
  'instead, in its environment as TIDEMARK_SOURCE_USERNAME and TIDEMARK_SOURCE_PASSWORD';

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

/** Checks a request body; throws {@link JobValidationError} listing every problem. */
export function parseCreateJobRequest(body: unknown): CreateJobInput {
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
  if (problems.length > 0) throw new JobValidationError(problems);
  const input: CreateJobInput = {
    project: project as string,
    sourceUri: uri as string,
    include,
    exclude,
    ...(schedule === undefined ? {} : { schedule: schedule as unknown as SnapshotSchedule }),
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
    try {
      problems.push(...validateSnapshotSchedule(input.schedule).map((p) => `schedule.${p}`));
    } catch {
      problems.push('schedule must have intervalHours, pointInTimeWindowHours and retention');
    }
  }
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
    schedule: input.schedule === undefined ? DEFAULT_SNAPSHOT_SCHEDULE : cleanSchedule(input.schedule),
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

/** Only the schedule's known fields (a request body may carry others). */
function cleanSchedule(s: SnapshotSchedule): SnapshotSchedule {
  const { snapshots, daily, weekly, monthly } = s.retention;
  return {
    intervalHours: s.intervalHours,
    retention: { snapshots, daily, weekly, monthly },
    pointInTimeWindowHours: s.pointInTimeWindowHours,
  };
}
