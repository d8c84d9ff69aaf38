/**
 * Job ids: 8 characters `[a-z0-9]`, chosen at random (docs/pipeline.md). Short enough for head database names
 * (`th_<jobId>_<syncNo>_<db>`), random enough that a collision is rare; the repository refuses a taken id and
 * the caller draws again.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { JobRepository } from './ports';

export const JOB_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const JOB_ID_LENGTH = 8;
export const JOB_ID_PATTERN = /^[a-z0-9]{8}$/;

/** A new random job id (uniform over the alphabet: `randomInt` has no modulo bias). */
export function randomJobId(): string {
  let id = '';
  for (let n = 0; n < JOB_ID_LENGTH; n++) id += JOB_ID_ALPHABET[randomInt(JOB_ID_ALPHABET.length)];
  return id;
}

/** Where a job service gets its ids from; tests pass deterministic ones. */
export interface IdSource {
  jobId(): string;
  /** Unique id of a command or outbox message. */
  messageId(): string;
}

export const RANDOM_IDS: IdSource = Object.freeze({ jobId: randomJobId, messageId: () => randomUUID() });

/**
 * What a job id looked up may be: wider than {@link JOB_ID_PATTERN} (what job-state draws), as wide as the job part
 * of snapshot and restore ids (`[a-z0-9]{1,64}`), so records made by other means are still found.
 */
export const JOB_ID_LOOKUP = /^[a-z0-9]{1,64}$/;

/**
 * `repo`, answering "no such job" for an id that cannot be a job id without asking the store: a NUL, a 10 kB text or
 * an operator-looking string from a URL never reaches a query (a MongoDB-wire server may fail on what it cannot
 * match, and the caller would get a 500 instead of a 404).
 */
export function wellFormedJobIds(repo: JobRepository): JobRepository {
  return {
    insert: (job) => repo.insert(job),
    get: async (id) => (JOB_ID_LOOKUP.test(id) ? repo.get(id) : undefined),
    list: (query) => repo.list(query),
    replace: (job, expectedRevision) => repo.replace(job, expectedRevision),
    listWithPendingEffects: (limit) => repo.listWithPendingEffects(limit),
  };
}
