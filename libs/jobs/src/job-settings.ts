/**
 * Changing a job's settings while it exists, whatever its state: `PATCH /api/v1/jobs/:id/settings` with
 * `{ readLimit: number | null }` (MB/s; `null` removes the limit). Only the fields given change; a field the
 * request does not take is refused, not ignored. No command is sent: the agent learns the new limit from
 * `GET /api/v1/agent/jobs`, which it polls, and applies it to the running scan or tail without restarting it.
 */
import { validateReadLimit, type ReadLimit } from '@tidemark/domain';
import { mergeProblems, schemaCheck } from '@tidemark/util';
import { JOB_ACTION_REQUEST_SCHEMA, JOB_SETTINGS_REQUEST_SCHEMA, MAX_RESYNC_REASON } from './api-schemas';
import { JobValidationError } from './job-errors';
import type { JobRecord } from './job-record';

/** What a settings request changes; a field left undefined stays as it is. */
export interface JobSettingsChange {
  /** A new limit, or `null` to remove it. */
  readonly readLimit?: ReadLimit | null;
}

/** The fields a settings request takes. */
export const JOB_SETTINGS_FIELDS = ['readLimit'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const checkSettingsSchema = schemaCheck(JOB_SETTINGS_REQUEST_SCHEMA);
const checkActionSchema = schemaCheck(JOB_ACTION_REQUEST_SCHEMA);

/**
 * Checks a settings request body against {@link JOB_SETTINGS_REQUEST_SCHEMA} and the read limit's rules; throws
 * {@link JobValidationError} listing every problem.
 */
export function parseJobSettingsRequest(body: unknown): JobSettingsChange {
  if (!isRecord(body)) throw new JobValidationError(['the body must be a JSON object']);
  const structural = checkSettingsSchema(body);
  const problems: string[] = [];
  const known: readonly string[] = JOB_SETTINGS_FIELDS;
  for (const key of Object.keys(body)) {
    if (!known.includes(key))
      problems.push(`${key} is not a setting (the settings are ${JOB_SETTINGS_FIELDS.join(', ')})`);
  }
  if (Object.keys(body).length === 0)
    problems.push(`give at least one setting (${JOB_SETTINGS_FIELDS.join(', ')})`);
  const readLimit = body['readLimit'];
  problems.push(...validateReadLimit(readLimit));
  if (problems.length > 0) throw new JobValidationError(mergeProblems(problems, structural));
  if (structural.length > 0) throw new JobValidationError(structural);
  return readLimit === undefined ? {} : { readLimit: readLimit as ReadLimit | null };
}

/**
 * The body of an action (`POST /api/v1/jobs/:id/:action`, {@link JOB_ACTION_REQUEST_SCHEMA}): only `resync` reads
 * it, for its optional `reason`; an empty or absent body gives none. Throws {@link JobValidationError}.
 */
export function parseResyncRequest(body: unknown): string | undefined {
  if (body === undefined || body === null || (isRecord(body) && Object.keys(body).length === 0))
    return undefined;
  const reason = isRecord(body) ? body['reason'] : undefined;
  if (checkActionSchema(body).length > 0 || (reason !== undefined && typeof reason !== 'string'))
    throw new JobValidationError([`reason must be a string of at most ${MAX_RESYNC_REASON} characters`]);
  return reason as string | undefined;
}

/** The job with `change` applied; undefined when nothing changes. */
export function applyJobSettings(job: JobRecord, change: JobSettingsChange): JobRecord | undefined {
  if (change.readLimit === undefined || change.readLimit === (job.readLimit ?? null)) return undefined;
  const { readLimit: _old, ...rest } = job;
  return change.readLimit === null ? rest : { ...rest, readLimit: change.readLimit };
}
