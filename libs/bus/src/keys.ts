/**
 * Message keys. Kafka keeps order per partition and the key picks the partition, so the key decides what stays in
 * order: everything of one job (`job`), or everything of one namespace of one job (`job-namespace`, where
 * parallelism across namespaces is safe). Formatter and parser live here together.
 */
import { TopicConfigError } from './bus-errors';

/** What a topic's messages are keyed by. */
export type KeyKind = 'job' | 'job-namespace' | 'source-key' | 'project';

/** Separates job id and namespace in a `job-namespace` key. Job ids never contain it (checked). */
export const KEY_SEPARATOR = '/';

/** Key of alerts that concern no job. */
export const SYSTEM_KEY = '-';

function checkJobId(jobId: string): void {
  if (jobId === '' || jobId.includes(KEY_SEPARATOR)) {
    throw new TopicConfigError(
      undefined,
      `job id "${jobId}" cannot be used in a key: empty or contains "${KEY_SEPARATOR}"`,
    );
  }
}

/** `job` key: the job id itself. */
export function jobKey(jobId: string): string {
  checkJobId(jobId);
  return jobId;
}

/** `job-namespace` key: `<jobId>/<db.collection>`. */
export function jobNamespaceKey(jobId: string, namespace: string): string {
  checkJobId(jobId);
  if (namespace === '') throw new TopicConfigError(undefined, 'namespace of a job-namespace key is empty');
  return `${jobId}${KEY_SEPARATOR}${namespace}`;
}

/** Parses a `job-namespace` key (the inverse of {@link jobNamespaceKey}). */
export function parseJobNamespaceKey(key: string): { jobId: string; namespace: string } {
  const at = key.indexOf(KEY_SEPARATOR);
  if (at <= 0 || at === key.length - 1) {
    throw new TopicConfigError(
      undefined,
      `"${key}" is not a job-namespace key <jobId>${KEY_SEPARATOR}<namespace>`,
    );
  }
  return { jobId: key.slice(0, at), namespace: key.slice(at + 1) };
}

/**
 * The key of a slice, the one rule for both slice topics: an initial-sync slice (it names its namespace) is keyed
 * `<jobId>/<namespace>`, so namespaces of one job are consumed in parallel; oplog and catalog slices (no
 * namespace) are keyed by the job id, so they stay in order per job.
 */
export function sliceKey(jobId: string, namespace: string | null): string {
  return namespace === null ? jobKey(jobId) : jobNamespaceKey(jobId, namespace);
}

/**
 * `project` key (audit events): the project name (1-64 of `A-Za-z0-9._-`, never `-`), or {@link SYSTEM_KEY} for
 * an event about no project, so one project's events stay in order.
 */
export function projectKey(project: string | null): string {
  if (project === null) return SYSTEM_KEY;
  if (project === '' || project === SYSTEM_KEY)
    throw new TopicConfigError(undefined, `project "${project}" cannot be used as a key`);
  return project;
}

/** The job id of a `job` or `job-namespace` key, or undefined when the key is not a well-formed one. */
export function jobIdOfKey(key: string): string | undefined {
  if (!key.includes(KEY_SEPARATOR)) return key === '' ? undefined : key;
  try {
    return parseJobNamespaceKey(key).jobId;
  } catch {
    return undefined;
  }
}
