/**
 * Changing a job's settings while it exists, whatever its state: `PATCH /api/v1/jobs/:id/settings` with
 * `{ readLimit: number | null }` (MB/s; `null` removes the limit). Only the fields given change; a field the
 * request does not take is refused, not ignored. No command is sent: the agent learns the new limit from
 * `GET /api/v1/agent/jobs`, which it polls, and applies it to the running scan or tail without restarting it.
 */
import { validateReadLimit, type ReadLimit } from '@tidemark/domain';
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

/** Checks a settings request body; throws {@link JobValidationError} listing every problem. */
export function parseJobSettingsRequest(body: unknown): JobSettingsChange {
  if (!isRecord(body)) throw new JobValidationError(['the body must be a JSON object']);
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
  if (problems.length > 0) throw new JobValidationError(problems);
  return readLimit === undefined ? {} : { readLimit: readLimit as ReadLimit | null };
}

/** The job with `change` applied; undefined when nothing changes. */
export function applyJobSettings(job: JobRecord, change: JobSettingsChange): JobRecord | undefined {
  if (change.readLimit === undefined || change.readLimit === (job.readLimit ?? null)) return undefined;
  const { readLimit: _old, ...rest } = job;
  return change.readLimit === null ? rest : { ...rest, readLimit: change.readLimit };
}
