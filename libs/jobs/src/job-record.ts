/**
 * The backup job as job-state stores it: the domain's {@link BackupJob} (spec, state, phase, sync id) plus what
 * job-state folds from the bus about the current sync (per-phase progress, details, newest source position,
 * alerts) and the effects it still owes the pipeline (the outbox and retained backups to delete).
 *
 * Everything about a sync (progress, details, sourceTs, alerts, blocked) belongs to the CURRENT sync: a new sync
 * (start, restart, resync) resets it. Int64 counters are bigint, oplog positions {@link OpTime}.
 */
import type {
  AlertSeverity,
  BackupJob,
  NamespaceProgress,
  OpTime,
  Phase,
  ProgressCounters,
} from '@tidemark/domain';
import type { OutboxMessage } from './messages';

/** The latest report of one stage in one phase of the current sync. */
export interface PhaseProgressEntry extends ProgressCounters {
  readonly phase: Phase;
  /** The app that reported (agent, slice-ingest, head-builder, oplog-applier, job-state). */
  readonly stage: string;
  readonly namespaces: readonly NamespaceProgress[];
  /** The report's own time (`PhaseChanged.at`); a report older than the stored one does not replace it. */
  readonly reportedAt: Date;
}

/** An alert folded into the job (from `tidemark.alerts`). */
export interface JobAlert {
  /** Unique id; the same id folded again changes nothing. */
  readonly alertId: string;
  /** Stable code, e.g. `RESYNC_REQUIRED`, `SLICE_REJECTED`. */
  readonly code: string;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly context: Readonly<Record<string, string>>;
  readonly at: Date;
  /** The sync the alert is about (from its context, or the job's current sync when it names none). */
  readonly syncId: string | undefined;
  /** When job-state's lifecycle closed it (a `CLOSED` event of the same id); absent while open. */
  readonly closedAt?: Date;
  /** Why it closed. */
  readonly closeReason?: string;
}

/** Why the job's pipeline stopped on its own (a rejected slice); cleared by the next sync. */
export interface JobBlock {
  readonly code: string;
  readonly message: string;
  readonly alertId: string;
  readonly at: Date;
}

/** A backup job in job-state's store. */
export interface JobRecord extends BackupJob {
  /** How many initial syncs the job has begun (start, restart, resync); 0 before the first start. */
  readonly syncNo: number;
  /** Per (phase, stage) the latest progress report of the current sync. */
  readonly progress: readonly PhaseProgressEntry[];
  /** Facts reported about the current sync (startTs, endTs as `t.i`, serverVersion, featureCompatibilityVersion, ...). */
  readonly details: Readonly<Record<string, string>>;
  /** Newest source oplog position any stage reported for the current sync. */
  readonly sourceTs: OpTime | undefined;
  /** Alerts about the current sync, oldest first, at most {@link MAX_JOB_ALERTS}. */
  readonly alerts: readonly JobAlert[];
  /** Set by a `SLICE_REJECTED` alert: the pipeline of this sync stopped. */
  readonly blocked: JobBlock | undefined;
  /** Commands and phase reports decided but not yet acknowledged by Kafka, in the order they must be sent. */
  readonly outbox: readonly OutboxMessage[];
  /** Retained backups (head databases, head records, oplog-store slices) of syncs `1..deletedThrough` are gone. */
  readonly deletedThrough: number;
  /** Those of syncs `1..pendingDeletionThrough` must go (terminate; a newer sync completed). */
  readonly pendingDeletionThrough: number;
  /** Incremented by every stored change; writes are compare-and-set on it. */
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** How many alerts a job keeps (the newest). */
export const MAX_JOB_ALERTS = 20;

/** True when the job owes the pipeline messages or the backup side deletions. */
export function hasPendingEffects(job: JobRecord): boolean {
  return job.outbox.length > 0 || job.pendingDeletionThrough > job.deletedThrough;
}
