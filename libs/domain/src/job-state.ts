/**
 * The backup job state machine.
 *
 * The legal transitions are one table ({@link JOB_TRANSITIONS}) and what each state means for the data is another
 * ({@link STATE_POLICY}); both are reviewed here and nowhere else. {@link transition} is the guard: an action that
 * has no row for the current state throws {@link IllegalTransitionError}.
 */
import { TidemarkError, type CauseOption } from './tidemark-error';

/** Every job state, in no particular order. */
export const JOB_STATES = ['inactive', 'initial-sync', 'active', 'stopped'] as const;

/**
 * A job's state. `initial-sync` is the transition state a job passes through on `start`, `restart` and `resync`;
 * its progress is the {@link Phase}.
 */
export type JobState = (typeof JOB_STATES)[number];

/**
 * Every action. `start`, `stop`, `restart`, `terminate` and `resync` are user commands;
 * `initial-sync-completed` and `initial-sync-failed` are reported by the pipeline.
 */
export const JOB_ACTIONS = [
  'start',
  'stop',
  'restart',
  'terminate',
  'resync',
  'initial-sync-completed',
  'initial-sync-failed',
] as const;

export type JobAction = (typeof JOB_ACTIONS)[number];

/** One legal transition. */
export interface TransitionRow {
  readonly from: JobState;
  readonly action: JobAction;
  readonly to: JobState;
  /** True when the transition deletes every retained snapshot and oplog slice of the job. */
  readonly deletesRetainedBackups: boolean;
  /** Why the row exists, for reviewers and for `describe` output. */
  readonly note: string;
}

/**
 * The legal transitions, one row per `(from, action)`. Anything not listed is illegal.
 *
 * Entering `initial-sync` always begins a new sync attempt with a new sync id (see `applyJobAction`).
 */
export const JOB_TRANSITIONS: readonly TransitionRow[] = Object.freeze([
  {
    from: 'inactive',
    action: 'start',
    to: 'initial-sync',
    deletesRetainedBackups: false,
    note: 'a new job begins with an initial sync',
  },
  {
    from: 'initial-sync',
    action: 'initial-sync-completed',
    to: 'active',
    deletesRetainedBackups: false,
    note: 'the head database is complete; snapshots and oplog apply run',
  },
  {
    from: 'initial-sync',
    action: 'initial-sync-failed',
    to: 'stopped',
    deletesRetainedBackups: false,
    note: 'a failed sync keeps the snapshots retained so far; the user restarts or terminates',
  },
  {
    from: 'initial-sync',
    action: 'stop',
    to: 'stopped',
    deletesRetainedBackups: false,
    note: 'a user can stop a running sync',
  },
  {
    from: 'active',
    action: 'stop',
    to: 'stopped',
    deletesRetainedBackups: false,
    note: 'no new snapshots, no oplog apply; retained snapshots are kept',
  },
  {
    from: 'active',
    action: 'resync',
    to: 'initial-sync',
    deletesRetainedBackups: false,
    note: 'a new initial sync for an existing job (e.g. after an oplog gap); existing snapshots are kept',
  },
  {
    from: 'stopped',
    action: 'restart',
    to: 'initial-sync',
    deletesRetainedBackups: false,
    note: 'the oplog was not followed while stopped, so the job syncs again',
  },
  {
    from: 'stopped',
    action: 'terminate',
    to: 'inactive',
    deletesRetainedBackups: true,
    note: 'deletes all retained backups of the job',
  },
] satisfies TransitionRow[]);

/** What a state means for the job's data. */
export interface StatePolicy {
  /** Snapshots taken earlier are kept (until their retention expires). */
  readonly retainSnapshots: boolean;
  /** The snapshotter takes new snapshots on schedule or on demand. */
  readonly createSnapshots: boolean;
  /** Oplog slices are stored and applied to the head database. */
  readonly applyOplogs: boolean;
}

/**
 * Per state: retain old snapshots / create new snapshots / apply oplogs (design brief, invariant 7).
 * `initial-sync` keeps existing snapshots (those of a job being resynced), creates none until the head database is
 * complete, and applies oplogs (the `applying-oplogs` phase).
 */
export const STATE_POLICY: Readonly<Record<JobState, StatePolicy>> = Object.freeze({
  active: Object.freeze({ retainSnapshots: true, createSnapshots: true, applyOplogs: true }),
  stopped: Object.freeze({ retainSnapshots: true, createSnapshots: false, applyOplogs: false }),
  inactive: Object.freeze({ retainSnapshots: false, createSnapshots: false, applyOplogs: false }),
  'initial-sync': Object.freeze({ retainSnapshots: true, createSnapshots: false, applyOplogs: true }),
});

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}

export function isJobAction(value: unknown): value is JobAction {
  return typeof value === 'string' && (JOB_ACTIONS as readonly string[]).includes(value);
}

/** The row for `(state, action)`, or undefined when the action is illegal in that state. */
export function findTransition(state: JobState, action: JobAction): TransitionRow | undefined {
  return JOB_TRANSITIONS.find((row) => row.from === state && row.action === action);
}

/** True when `action` is legal in `state`. */
export function canTransition(state: JobState, action: JobAction): boolean {
  return findTransition(state, action) !== undefined;
}

/** The actions legal in `state`, in table order (for the UI's buttons and the API's error messages). */
export function allowedActions(state: JobState): JobAction[] {
  return JOB_TRANSITIONS.filter((row) => row.from === state).map((row) => row.action);
}

/**
 * The state after `action`. Throws {@link IllegalTransitionError} (not retriable) naming the state and the action
 * when the table has no such row.
 */
export function transition(state: JobState, action: JobAction, jobId?: string): JobState {
  const row = findTransition(state, action);
  if (row === undefined) throw new IllegalTransitionError({ jobId, from: state, action });
  return row.to;
}

/** The job state machine's guard: `action` is not allowed in state `from`. Not retriable. */
export class IllegalTransitionError extends TidemarkError {
  override readonly name: string = 'IllegalTransitionError';
  readonly jobId: string | undefined;
  readonly from: JobState;
  readonly action: JobAction;

  constructor(details: { jobId?: string; from: JobState; action: JobAction } & CauseOption) {
    super(
      `${details.jobId === undefined ? 'job' : `job ${details.jobId}`}: action "${details.action}" is not ` +
        `allowed in state "${details.from}"`,
      { retriable: false, cause: details.cause },
    );
    this.jobId = details.jobId;
    this.from = details.from;
    this.action = details.action;
  }
}
