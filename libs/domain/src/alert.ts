/**
 * Alerts: what an operator must know about (a job that requires a resync, a dead-lettered slice, a failed apply).
 * Every stage raises them in these terms; the bus carries them as `AlertRaised` (`@tidemark/bus` alert-mapping)
 * and job-state folds them into the job.
 */
export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface Alert {
  /** Unique; raising the same id again is a no-op for its readers (a redelivery, or the same failure seen again). */
  readonly alertId: string;
  /** The job concerned, or null for an alert about the system as a whole (or a message that names no job). */
  readonly jobId: string | null;
  readonly severity: AlertSeverity;
  /** Stable, machine-readable: one of `ALERT_CODES`. */
  readonly code: string;
  readonly message: string;
  /** Details, all as text. */
  readonly context: Readonly<Record<string, string>>;
  readonly at: Date;
  /**
   * job-state's lifecycle of the alert (docs/api.md, "Alerts"): an alert opens once while its condition holds and
   * closes once when it no longer does. Absent for an alert a stage raised (a fact; `AlertRaised.state` null).
   */
  readonly lifecycle?: AlertLifecycle;
}

export type AlertLifecycleState = 'open' | 'closed';

/** Where an alert is in job-state's lifecycle; `at` of the alert is when it opened. */
export interface AlertLifecycle {
  readonly state: AlertLifecycleState;
  /** What the alert is about within its job: a sync id, snapshot id, restore id, or a stage's partition. */
  readonly subject: string;
  /** When it closed (state `closed`). */
  readonly closedAt?: Date;
  /** Why it closed (state `closed`). */
  readonly closeReason?: string;
}

/** The alert codes, all stages' in one place. */
export const ALERT_CODES = Object.freeze({
  /** The source oplog no longer holds the job's position: the job needs a resync (its tailing stopped). */
  resyncRequired: 'RESYNC_REQUIRED',
  /** A transfer (scan or catalog) failed; the sync cannot complete and needs a restart or resync. */
  initialSyncFailed: 'INITIAL_SYNC_FAILED',
  /** The oplog tail of a job failed with an error a retry cannot fix; tailing of the job stopped. */
  tailFailed: 'OPLOG_TAIL_FAILED',
  /** An agent command could not be carried out (bad parameters, incomplete missing-document fetch, ...). */
  commandFailed: 'AGENT_COMMAND_FAILED',
  /** A job job-state lists has no position to resume its tail from. */
  resumePositionUnknown: 'RESUME_POSITION_UNKNOWN',
  /** A slice was dead-lettered: the job's pipeline stopped; job-state marks the job blocked. */
  sliceRejected: 'SLICE_REJECTED',
  /** Applying an oplog slice failed with an error a retry cannot fix; the job's apply stopped at that position. */
  applyFailed: 'APPLY_FAILED',
  /** job-state: no oplog slice was stored for the job for a while although the source wrote ("oplog is behind"). */
  oplogBehind: 'OPLOG_BEHIND',
  /** job-state: the job's lag (source newest oplog time minus the applied position) is above the threshold. */
  lagHigh: 'LAG_HIGH',
  /** job-state: a stage's consumer group has messages to read on a partition and committed nothing for a while. */
  stageNotConsuming: 'STAGE_NOT_CONSUMING',
  /** job-state: the job's newest snapshot failed (closes when a later snapshot completes). */
  snapshotFailed: 'SNAPSHOT_FAILED',
  /** job-state: a verify found a snapshot damaged (closes when a later verify finds it intact, or it is gone). */
  verifyFailed: 'VERIFY_FAILED',
  /** job-state: the job's newest finished restore failed (closes when a later restore of the job completes). */
  restoreFailed: 'RESTORE_FAILED',
} as const);
