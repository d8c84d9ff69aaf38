/**
 * Restore events: what happened to one restore, in the order it happened (started, progressed..., possibly
 * cancel-requested, then completed, failed or cancelled). job-state publishes them (`RestoreEventPublisher`, on
 * Kafka `RestoreEvent` on `tidemark.restores` through `@tidemark/bus` restore-mapping) each time it records a
 * change of the restore. Each event carries the restore's whole summary, not a delta, so a consumer that sees one
 * twice (redelivery) changes nothing. No event carries credentials: `target` is the URI without them.
 */
import type { OpTime } from './op-time';

export const RESTORE_EVENT_KINDS = [
  'started',
  'progressed',
  'cancel-requested',
  'completed',
  'failed',
  'cancelled',
] as const;
export type RestoreEventKind = (typeof RESTORE_EVENT_KINDS)[number];

/** A restore of one snapshot, or of a point in time (the newest snapshot at or before T plus the oplog to T). */
export const RESTORE_KINDS = ['snapshot', 'point-in-time'] as const;
export type RestoreKind = (typeof RESTORE_KINDS)[number];

/** One namespace of a restore's progress (the target's name, after renames). */
export interface RestoreNamespaceProgress {
  readonly namespace: string;
  readonly documents: number;
  readonly done: boolean;
}

export interface RestoreEvent {
  readonly event: RestoreEventKind;
  readonly restoreId: string;
  readonly jobId: string;
  readonly kind: RestoreKind;
  /** The snapshot restored; for a point-in-time restore known once it completed. */
  readonly snapshotId?: string;
  /** Point-in-time restores: T as the user gave it (ISO instant or `t:i`). */
  readonly point?: string;
  /** The position the target is at, once known (complete restores). */
  readonly opTime?: OpTime;
  readonly opWallTime?: Date;
  /** The target deployment's URI without credentials. */
  readonly target: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** `FROM=TO` each. */
  readonly renames: readonly string[];
  readonly drop: boolean;
  readonly cancelRequested: boolean;
  readonly documents: number;
  readonly bytes: number;
  /** Oplog entries replayed (point-in-time restores). */
  readonly entries: number;
  readonly namespaces: readonly RestoreNamespaceProgress[];
  /** `failed` and `cancelled`: why, and what was written. */
  readonly reason?: string;
  /** When the event happened. */
  readonly at: Date;
}

export function isRestoreKind(value: unknown): value is RestoreKind {
  return (RESTORE_KINDS as readonly unknown[]).includes(value);
}
