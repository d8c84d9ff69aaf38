/**
 * job-state's catalog of a job's snapshots: one entry per snapshot, folded from the snapshotter's
 * `SnapshotEvent`s (and created `requested` when the API asks for one), so the API can list and show snapshots
 * without reading any snapshot store.
 *
 * Folding is idempotent and never goes back: an entry's state only moves up the ranks
 * `requested` < `in-progress` < `complete` | `failed` < `expired` | `deleted`, so a redelivered `started` after
 * `completed` changes nothing; `verified` records the last verify without changing the state.
 */
import { formatOpTime, type OpTime, type SnapshotEvent, type SnapshotStoreKind } from '@tidemark/domain';

export const SNAPSHOT_ENTRY_STATES = [
  'requested',
  'in-progress',
  'complete',
  'failed',
  'expired',
  'deleted',
] as const;
export type SnapshotEntryState = (typeof SNAPSHOT_ENTRY_STATES)[number];

const RANK: Readonly<Record<SnapshotEntryState, number>> = {
  requested: 0,
  'in-progress': 1,
  complete: 2,
  failed: 2,
  expired: 3,
  deleted: 3,
};

/** The last verify of a snapshot. */
export interface SnapshotVerification {
  readonly requestId: string | undefined;
  readonly ok: boolean;
  readonly damagedBlocks: number;
  readonly reason: string | undefined;
  readonly at: Date;
}

export interface SnapshotEntry {
  readonly snapshotId: string;
  readonly jobId: string;
  readonly syncId: string | undefined;
  readonly state: SnapshotEntryState;
  readonly store: SnapshotStoreKind;
  readonly opTime: OpTime | undefined;
  readonly opWallTime: Date | undefined;
  readonly takenAt: Date | undefined;
  readonly completedAt: Date | undefined;
  readonly logicalBytes: number;
  readonly storedBytes: number;
  readonly namespaces: number;
  readonly documents: number;
  readonly manifestChecksum: string | undefined;
  /** Why it failed, expired or was deleted. */
  readonly reason: string | undefined;
  readonly lastVerify: SnapshotVerification | undefined;
  readonly requestedAt: Date | undefined;
  readonly updatedAt: Date;
}

/** Where the catalog is stored. Every write is durable when it resolves. */
export interface SnapshotCatalog {
  get(snapshotId: string): Promise<SnapshotEntry | undefined>;
  /** Creates or replaces the entry. */
  put(entry: SnapshotEntry): Promise<void>;
  /** The job's entries, newest first (by `takenAt`, else `requestedAt`). */
  listForJob(jobId: string): Promise<SnapshotEntry[]>;
  /** Deletes every entry of the job (terminate). */
  deleteForJob(jobId: string): Promise<void>;
}

const STATE_OF_EVENT: Readonly<Record<SnapshotEvent['event'], SnapshotEntryState | undefined>> = {
  started: 'in-progress',
  completed: 'complete',
  failed: 'failed',
  expired: 'expired',
  deleted: 'deleted',
  verified: undefined,
};

/** A new `requested` entry (the API asked the snapshotter for it). */
export function requestedEntry(
  jobId: string,
  snapshotId: string,
  store: SnapshotStoreKind,
  now: Date,
): SnapshotEntry {
  return {
    snapshotId,
    jobId,
    syncId: undefined,
    state: 'requested',
    store,
    opTime: undefined,
    opWallTime: undefined,
    takenAt: undefined,
    completedAt: undefined,
    logicalBytes: 0,
    storedBytes: 0,
    namespaces: 0,
    documents: 0,
    manifestChecksum: undefined,
    reason: undefined,
    lastVerify: undefined,
    requestedAt: now,
    updatedAt: now,
  };
}

/** The entry after `event`; undefined when nothing changes (a stale or repeated event). */
export function foldSnapshotEvent(
  entry: SnapshotEntry | undefined,
  event: SnapshotEvent,
  now: Date,
): SnapshotEntry | undefined {
  const base = entry ?? {
    ...requestedEntry(event.jobId, event.snapshotId, event.store, now),
    requestedAt: undefined,
  };
  if (event.event === 'verified') {
    if (event.verify === undefined) return undefined;
    const last = base.lastVerify;
    if (last !== undefined && last.at.getTime() >= event.at.getTime()) return undefined;
    return {
      ...base,
      lastVerify: {
        requestId: event.requestId,
        ok: event.verify.ok,
        damagedBlocks: event.verify.damagedBlocks,
        reason: event.reason,
        at: event.at,
      },
      updatedAt: now,
    };
  }
  const state = STATE_OF_EVENT[event.event];
  if (state === undefined) return undefined;
  if (
    entry !== undefined &&
    RANK[state] <= RANK[entry.state] &&
    !(entry.state === 'requested' && state === 'in-progress')
  )
    return undefined;
  const summary =
    state === 'expired' || state === 'deleted'
      ? {}
      : {
          syncId: event.syncId,
          opTime: event.opTime,
          opWallTime: event.opWallTime,
          takenAt: event.takenAt,
          completedAt: event.completedAt,
          logicalBytes: event.logicalBytes,
          storedBytes: event.storedBytes,
          namespaces: event.namespaceCount,
          documents: event.documentCount,
          manifestChecksum: event.manifestChecksum,
        };
  return { ...base, ...summary, state, reason: event.reason ?? base.reason, updatedAt: now };
}

/** A snapshot as the API and `tidemark snapshot list --json` show it. */
export interface SnapshotView {
  id: string;
  jobId: string;
  state: SnapshotEntryState;
  /** `t:i`, null until the snapshot has started. */
  opTime: string | null;
  opWallTime: string | null;
  takenAt: string | null;
  completedAt: string | null;
  store: SnapshotStoreKind;
  logicalBytes: number;
  storedBytes: number;
  namespaces: number;
  documents: number;
  manifestChecksum: string | null;
  reason: string | null;
  lastVerify: {
    requestId: string | null;
    ok: boolean;
    damagedBlocks: number;
    reason: string | null;
    at: string;
  } | null;
}

const iso = (d: Date | undefined): string | null => (d === undefined ? null : d.toISOString());

export function snapshotView(e: SnapshotEntry): SnapshotView {
  return {
    id: e.snapshotId,
    jobId: e.jobId,
    state: e.state,
    opTime: e.opTime === undefined ? null : formatOpTime(e.opTime),
    opWallTime: iso(e.opWallTime),
    takenAt: iso(e.takenAt),
    completedAt: iso(e.completedAt),
    store: e.store,
    logicalBytes: e.logicalBytes,
    storedBytes: e.storedBytes,
    namespaces: e.namespaces,
    documents: e.documents,
    manifestChecksum: e.manifestChecksum ?? null,
    reason: e.reason ?? null,
    lastVerify:
      e.lastVerify === undefined
        ? null
        : {
            requestId: e.lastVerify.requestId ?? null,
            ok: e.lastVerify.ok,
            damagedBlocks: e.lastVerify.damagedBlocks,
            reason: e.lastVerify.reason ?? null,
            at: e.lastVerify.at.toISOString(),
          },
  };
}

/** Newest first: by `takenAt`, else `requestedAt`, then id. */
export function compareNewestFirst(a: SnapshotEntry, b: SnapshotEntry): number {
  const t = (e: SnapshotEntry) => (e.takenAt ?? e.requestedAt ?? e.updatedAt).getTime();
  return t(b) - t(a) || (a.snapshotId < b.snapshotId ? 1 : -1);
}
