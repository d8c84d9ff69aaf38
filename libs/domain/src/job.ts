/**
 * The backup job: one deployment's backup, what it covers (namespaces) and how often (snapshot schedule,
 * retention), with its current state, phase and sync id. A plain value; the job-state service stores it and
 * changes it only through {@link applyJobAction}.
 */
import { transition, type JobAction, type JobState, isJobState } from './job-state';
import { validateNamespaceFilters, type NamespaceFilters } from './namespace';
import { FIRST_PHASE, LAST_PHASE, isPhase, type Phase } from './phase';
import { validateReadLimit, type ReadLimit } from './read-limit';
import {
  validateSnapshotSchedule,
  validateSnapshotStoreSpec,
  type SnapshotSchedule,
  type SnapshotStoreSpec,
} from './snapshot-schedule';

/** MongoDB authentication mechanisms a source may use. */
export type AuthMechanism =
  'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'MONGODB-X509' | 'MONGODB-AWS' | 'MONGODB-OIDC' | 'PLAIN' | 'GSSAPI';

/**
 * How to authenticate to the source, kept apart from the URI so the URI can be shown and logged.
 * The password or key is never part of a job: `secretRef` names where the agent finds it.
 */
export interface SourceAuth {
  readonly mechanism: AuthMechanism;
  /** User name (X.509: the certificate subject; may be omitted for AWS/OIDC). */
  readonly username: string | undefined;
  /** Database holding the user (`authSource`); undefined means the driver's default for the mechanism. */
  readonly authSource: string | undefined;
  /** Name of the secret holding the password / key material, resolved by the agent at connect time. */
  readonly secretRef: string | undefined;
}

/** The deployment being backed up. */
export interface JobSource {
  /** `mongodb://` or `mongodb+srv://` URI with no credentials in it (checked by {@link uriHasCredentials}). */
  readonly uri: string;
  /** Undefined when the source needs no authentication. */
  readonly auth: SourceAuth | undefined;
}

/** A backup job. */
export interface BackupJob {
  /** Stable id; the key of every Kafka message about this job. */
  readonly id: string;
  /** The project (tenant) the job belongs to. */
  readonly project: string;
  readonly source: JobSource;
  readonly namespaces: NamespaceFilters;
  readonly schedule: SnapshotSchedule;
  /** Where its snapshots go. */
  readonly snapshotStore: SnapshotStoreSpec;
  /** How fast the agent may read the source, MB/s (`read-limit.ts`); absent: uncapped. */
  readonly readLimit?: ReadLimit;
  readonly state: JobState;
  /** Phase of the current (or last) sync attempt; undefined before the job first starts. */
  readonly phase: Phase | undefined;
  /** Id of the current (or last) sync attempt, new for every initial sync and resync; undefined before the first. */
  readonly syncId: string | undefined;
}

/**
 * True when `uri` carries credentials: a `user[:password]@` part, or an AWS session token in its options.
 * Returns undefined when `uri` is not a `mongodb://` / `mongodb+srv://` URI.
 */
export function uriHasCredentials(uri: string): boolean | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/([^/?#]*)([^#]*)/i.exec(uri);
  if (match === null) return undefined;
  const [, authority = '', rest = ''] = match;
  return authority.includes('@') || /AWS_SESSION_TOKEN/i.test(decodeURIComponentSafe(rest));
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Problems with a job, as sentences for the API to return; empty when valid. */
export function validateBackupJob(job: BackupJob): string[] {
  const problems: string[] = [];
  if (job.id.trim() === '') problems.push('id is empty');
  if (job.project.trim() === '') problems.push('project is empty');
  const credentials = uriHasCredentials(job.source.uri);
  if (credentials === undefined) problems.push('source.uri must start with mongodb:// or mongodb+srv://');
  if (credentials === true) problems.push('source.uri must not contain credentials; use source.auth');
  problems.push(...validateNamespaceFilters(job.namespaces).map((p) => `namespaces: ${p}`));
  problems.push(...validateSnapshotSchedule(job.schedule).map((p) => `schedule: ${p}`));
  problems.push(...validateSnapshotStoreSpec(job.snapshotStore).map((p) => `snapshotStore: ${p}`));
  problems.push(...validateReadLimit(job.readLimit));
  if (!isJobState(job.state)) problems.push(`state "${String(job.state)}" is not a job state`);
  if (job.phase !== undefined && !isPhase(job.phase))
    problems.push(`phase "${String(job.phase)}" is not a phase`);
  if (job.state !== 'inactive' && (job.syncId === undefined || job.phase === undefined)) {
    problems.push(`a job in state "${job.state}" must have a syncId and a phase`);
  }
  return problems;
}

/**
 * The job after `action`, following the transition table. Entering `initial-sync` starts a new attempt (new
 * sync id from `ids.newSyncId()`, phase `starting`); completing it sets phase `complete`; `terminate` clears the
 * sync id and phase. Throws `IllegalTransitionError` when the action is not allowed in the job's state.
 */
export function applyJobAction(job: BackupJob, action: JobAction, ids: { newSyncId(): string }): BackupJob {
  const state = transition(job.state, action, job.id);
  if (state === 'initial-sync') return { ...job, state, phase: FIRST_PHASE, syncId: ids.newSyncId() };
  if (action === 'initial-sync-completed') return { ...job, state, phase: LAST_PHASE };
  if (state === 'inactive') return { ...job, state, phase: undefined, syncId: undefined };
  return { ...job, state };
}
