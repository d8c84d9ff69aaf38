/**
 * The bodies of the restores API (docs/api.md, "Restores"), checked: every problem is listed
 * ({@link RestoreValidationError}, 400), an unknown field is refused rather than ignored.
 */
import { parseOpTime, type OpTime } from '@tidemark/domain';
import { mergeProblems, schemaCheck } from '@tidemark/util';
import {
  BEGIN_RESTORE_REQUEST_SCHEMA,
  FINISH_RESTORE_REQUEST_SCHEMA,
  RESTORE_PROGRESS_REQUEST_SCHEMA,
} from './api-schemas';
import {
  RESTORE_END_STATES,
  RestoreValidationError,
  type RestoreEndState,
  type RestoreEntryProgress,
  type RestoreFinish,
  type RestoreSelectionSummary,
} from './restore-catalog';

/** `POST /api/v1/restores`. */
export interface BeginRestoreInput {
  /** Snapshot restores: the snapshot (its job is the catalog's). */
  readonly snapshotId?: string;
  /** Point-in-time restores: the job, and T as the user gave it (ISO instant with a timezone, or `t:i`). */
  readonly jobId?: string;
  readonly point?: string;
  /** The target URI; credentials are removed before it is stored or published. */
  readonly target: string;
  readonly selection: RestoreSelectionSummary;
  readonly drop: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const MAX_TEXT = 4096;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function unknownFields(
  name: string,
  value: Record<string, unknown>,
  known: readonly string[],
  problems: string[],
) {
  for (const key of Object.keys(value))
    if (!known.includes(key)) problems.push(`${name}${key} is not a field (it takes ${known.join(', ')})`);
}

function text(body: Record<string, unknown>, key: string, problems: string[]): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT) {
    problems.push(`${key} must be a non-empty string of at most ${MAX_TEXT} characters`);
    return undefined;
  }
  return v;
}

function names(body: Record<string, unknown>, key: string, problems: string[]): string[] {
  const v = body[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '' || x.length > 255)) {
    problems.push(`${key} must be a list of non-empty strings`);
    return [];
  }
  return v as string[];
}

/** True for an ISO instant with a timezone or an oplog position `t:i` (what `tidemark restore --at` takes). */
export function isRestorePointText(point: string): boolean {
  if (ISO_INSTANT.test(point)) return !Number.isNaN(Date.parse(point));
  try {
    parseOpTime(point);
    return true;
  } catch {
    return false;
  }
}

const checkBeginSchema = schemaCheck(BEGIN_RESTORE_REQUEST_SCHEMA);
const checkProgressSchema = schemaCheck(RESTORE_PROGRESS_REQUEST_SCHEMA);
const checkFinishSchema = schemaCheck(FINISH_RESTORE_REQUEST_SCHEMA);

/**
 * The hand-written checks' result, or their precise problems merged with those of the body's JSON Schema
 * (`api-schemas.ts`: types, sizes, fields), which also refuses what the hand-written checks let through.
 */
function withSchema<T>(structural: string[], check: () => T): T {
  let parsed: T;
  try {
    parsed = check();
  } catch (err) {
    if (err instanceof RestoreValidationError)
      throw new RestoreValidationError(mergeProblems(err.problems, structural));
    throw err;
  }
  if (structural.length > 0) throw new RestoreValidationError(structural);
  return parsed;
}

/** `POST /api/v1/restores` ({@link BEGIN_RESTORE_REQUEST_SCHEMA}). */
export function parseBeginRestoreRequest(body: unknown): BeginRestoreInput {
  return withSchema(checkBeginSchema(body), () => checkBeginRestoreRequest(body));
}

function checkBeginRestoreRequest(body: unknown): BeginRestoreInput {
  if (!isRecord(body)) throw new RestoreValidationError(['the body must be a JSON object']);
  const problems: string[] = [];
  unknownFields(
    '',
    body,
    ['snapshotId', 'jobId', 'point', 'target', 'include', 'exclude', 'renames', 'drop'],
    problems,
  );
  const snapshotId = text(body, 'snapshotId', problems);
  const jobId = text(body, 'jobId', problems);
  const point = text(body, 'point', problems);
  const target = text(body, 'target', problems);
  if (snapshotId === undefined && point === undefined)
    problems.push('give snapshotId (a snapshot restore) or jobId and point (a point-in-time restore)');
  if (snapshotId !== undefined && point !== undefined)
    problems.push(
      'snapshotId and point exclude each other: a restore is of a snapshot or of a point in time',
    );
  if (point !== undefined && jobId === undefined) problems.push('a point-in-time restore needs jobId');
  if (point !== undefined && !isRestorePointText(point))
    problems.push(
      `point ${JSON.stringify(point)} is neither an ISO instant with a timezone nor an oplog position t:i`,
    );
  if (target === undefined)
    problems.push('target is required (the mongodb:// URI written into, or a file:// dump)');
  else if (!/^(mongodb(\+srv)?|file):\/\//.test(target))
    problems.push(
      'target must be a mongodb:// or mongodb+srv:// URI, or a file:// URI (a dump directory or archive)',
    );
  const include = names(body, 'include', problems);
  const exclude = names(body, 'exclude', problems);
  const renames = names(body, 'renames', problems);
  for (const r of renames)
    if (!/^[^=]+=[^=]+$/.test(r)) problems.push(`rename ${JSON.stringify(r)} is not FROM=TO`);
  const drop = body['drop'] ?? false;
  if (typeof drop !== 'boolean') problems.push('drop must be true or false');
  if (problems.length > 0) throw new RestoreValidationError(problems);
  return {
    ...(snapshotId === undefined ? {} : { snapshotId }),
    ...(jobId === undefined ? {} : { jobId }),
    ...(point === undefined ? {} : { point }),
    target: target!,
    selection: { include, exclude, renames },
    drop: drop as boolean,
  };
}

function progressOf(value: unknown, name: string, problems: string[]): RestoreEntryProgress | undefined {
  if (!isRecord(value)) {
    problems.push(`${name} must be an object { documents, bytes, entries, namespaces }`);
    return undefined;
  }
  const before = problems.length;
  unknownFields(`${name}.`, value, ['documents', 'bytes', 'entries', 'namespaces'], problems);
  for (const f of ['documents', 'bytes', 'entries'])
    if (!isCount(value[f])) problems.push(`${name}.${f} must be a whole number >= 0`);
  const nss = value['namespaces'] ?? {};
  if (!isRecord(nss))
    problems.push(`${name}.namespaces must be an object { "db.coll": { documents, done } }`);
  else
    for (const [ns, n] of Object.entries(nss)) {
      if (!/^[^.$\s][^\s]*\.[^\s]+$/.test(ns))
        problems.push(`${name}.namespaces: ${JSON.stringify(ns)} is not db.coll`);
      if (!isRecord(n) || !isCount(n['documents']) || typeof n['done'] !== 'boolean')
        problems.push(`${name}.namespaces["${ns}"] must be { documents: whole number >= 0, done: boolean }`);
      else unknownFields(`${name}.namespaces["${ns}"].`, n, ['documents', 'done'], problems);
    }
  if (problems.length > before) return undefined;
  return {
    documents: value['documents'] as number,
    bytes: value['bytes'] as number,
    entries: value['entries'] as number,
    namespaces: Object.fromEntries(
      Object.entries(nss as Record<string, { documents: number; done: boolean }>).map(([ns, n]) => [
        ns,
        { documents: n.documents, done: n.done },
      ]),
    ),
  };
}

/** `POST /api/v1/restores/:id/progress`: the progress itself ({@link RESTORE_PROGRESS_REQUEST_SCHEMA}). */
export function parseRestoreProgressRequest(body: unknown): RestoreEntryProgress {
  return withSchema(checkProgressSchema(body), () => checkRestoreProgressRequest(body));
}

function checkRestoreProgressRequest(body: unknown): RestoreEntryProgress {
  const problems: string[] = [];
  const progress = progressOf(body, 'progress', problems);
  if (progress === undefined) throw new RestoreValidationError(problems);
  return progress;
}

/** `POST /api/v1/restores/:id/finish` ({@link FINISH_RESTORE_REQUEST_SCHEMA}). */
export function parseFinishRestoreRequest(body: unknown): RestoreFinish {
  return withSchema(checkFinishSchema(body), () => checkFinishRestoreRequest(body));
}

function checkFinishRestoreRequest(body: unknown): RestoreFinish {
  if (!isRecord(body)) throw new RestoreValidationError(['the body must be a JSON object']);
  const problems: string[] = [];
  unknownFields('', body, ['state', 'reason', 'progress', 'snapshotId', 'at'], problems);
  const state = body['state'];
  if (!(RESTORE_END_STATES as readonly unknown[]).includes(state))
    problems.push(`state must be one of ${RESTORE_END_STATES.join(', ')}`);
  const reason = text(body, 'reason', problems);
  if ((state === 'failed' || state === 'cancelled') && reason === undefined)
    problems.push(`a ${String(state)} restore needs a reason (why, and what was written)`);
  const progress =
    body['progress'] === undefined ? undefined : progressOf(body['progress'], 'progress', problems);
  const snapshotId = text(body, 'snapshotId', problems);
  let at: RestoreFinish['at'];
  const rawAt = body['at'];
  if (rawAt !== undefined) {
    if (!isRecord(rawAt) || typeof rawAt['opTime'] !== 'string') {
      problems.push('at must be { opTime: "t:i", wallTime: ISO instant or null }');
    } else {
      let opTime: OpTime | undefined;
      try {
        opTime = parseOpTime(rawAt['opTime']);
      } catch (err) {
        problems.push(`at.opTime: ${(err as Error).message}`);
      }
      const wall = rawAt['wallTime'] ?? null;
      if (
        wall !== null &&
        (typeof wall !== 'string' || !ISO_INSTANT.test(wall) || Number.isNaN(Date.parse(wall)))
      )
        problems.push('at.wallTime must be an ISO instant with a timezone, or null');
      if (opTime !== undefined)
        at = { opTime, wallTime: typeof wall === 'string' ? new Date(wall) : undefined };
    }
  }
  if (problems.length > 0) throw new RestoreValidationError(problems);
  return {
    state: state as RestoreEndState,
    ...(reason === undefined || state === 'complete' ? {} : { reason }),
    ...(progress === undefined ? {} : { progress }),
    ...(snapshotId === undefined ? {} : { snapshotId }),
    ...(at === undefined ? {} : { at }),
  };
}
