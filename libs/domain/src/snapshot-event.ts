/**
 * Snapshot events: what happened to one snapshot of a job, in the order it happened (started, then completed or
 * failed; later verified, expired, deleted). The snapshotter reports them (`SnapshotEventPublisher`, on Kafka
 * `SnapshotEvent` on `tidemark.snapshots` through `@tidemark/bus` snapshot-mapping) and job-state folds them into
 * the job's list of snapshots. A consumer may see an event twice (redelivery): folding the same event again changes
 * nothing, since each carries the snapshot's whole summary, not a delta.
 */
import type { OpTime } from './op-time';

/** The kinds of event, in the order a snapshot's life usually goes through them. */
export const SNAPSHOT_EVENT_KINDS = [
  'started',
  'completed',
  'failed',
  'expired',
  'verified',
  'deleted',
] as const;
export type SnapshotEventKind = (typeof SNAPSHOT_EVENT_KINDS)[number];

/** The snapshot stores, as a job names its store. */
export const SNAPSHOT_STORE_KINDS = ['blockstore', 's3', 'filesystem'] as const;
export type SnapshotStoreKind = (typeof SNAPSHOT_STORE_KINDS)[number];

/** The outcome of a verify: the manifest and every block re-read and checked. */
export interface SnapshotVerifyOutcome {
  /** True when everything was read back and matched its checksum. */
  readonly ok: boolean;
  /** Blocks missing or not matching their address (0 when `ok`). */
  readonly damagedBlocks: number;
}

export interface SnapshotEvent {
  readonly event: SnapshotEventKind;
  readonly jobId: string;
  readonly snapshotId: string;
  /** The job's sync whose head database was copied (`<jobId>-s<syncNo>`). */
  readonly syncId: string;
  readonly store: SnapshotStoreKind;
  /** The applied oplog position the snapshot is exactly. */
  readonly opTime: OpTime;
  /** Wall time of the oplog entry at `opTime`, when known (display only). */
  readonly opWallTime?: Date;
  /** When the snapshot began. */
  readonly takenAt: Date;
  /** When it became complete; absent while it is not. */
  readonly completedAt?: Date;
  /** Sum of the documents' BSON sizes (0 for `started`). */
  readonly logicalBytes: number;
  /** Bytes of blocks this snapshot added to the store (0 for `started`). */
  readonly storedBytes: number;
  readonly namespaceCount: number;
  readonly documentCount: number;
  /** SHA-256 (hex) of the manifest, once written. */
  readonly manifestChecksum?: string;
  /** `failed`: why; `verified` with damage: a summary; `expired`, `deleted`: why. */
  readonly reason?: string;
  /** `verified` only. */
  readonly verify?: SnapshotVerifyOutcome;
  /** The `requestId` of the command this answers (`TAKE_SNAPSHOT`, `VERIFY_SNAPSHOT`, `DELETE_SNAPSHOT`). */
  readonly requestId?: string;
  /** When the event happened. */
  readonly at: Date;
}

export function isSnapshotEventKind(value: unknown): value is SnapshotEventKind {
  return (SNAPSHOT_EVENT_KINDS as readonly unknown[]).includes(value);
}

export function isSnapshotStoreKind(value: unknown): value is SnapshotStoreKind {
  return (SNAPSHOT_STORE_KINDS as readonly unknown[]).includes(value);
}
