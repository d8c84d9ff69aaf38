/**
 * `restorePointInTime`: the newest snapshot at or before T (`chooseSnapshot`, which refuses T outside the restorable
 * window before anything is written), restored as `restoreSnapshot` does, then the stored oplog entries after the
 * snapshot's position replayed through the oplog applier of `@tidemark/oplog-apply` (the code that keeps the head
 * database), up to and including the last entry at or before T, with the same namespace mapping.
 *
 * T as `t:i` stops after the entry at `t:i` (or the last one before it); T as an instant stops before the first entry
 * whose wall time (its timestamp's seconds when it has none) is after T. A transaction whose commit lies after T is
 * not applied. An update the replay finds no document for means the snapshot and the oplog disagree: the restore
 * fails, naming it, rather than end in a state the source never had.
 */
import {
  TidemarkError,
  compareOpTime,
  positionMillis,
  type OpTime,
  type OplogPosition,
  type RestorableWindow,
} from '@tidemark/domain';
import type { RestoreSnapshot } from './ports';
import { planNamespaces, namespaceMapping, SELECT_ALL } from './namespace-plan';
import {
  ProgressReporter,
  RestoreLedger,
  refuseNonEmpty,
  summarize,
  writeSnapshotNamespaces,
  type RestoreSnapshotRequest,
  type RestoreSnapshotResult,
} from './restore-snapshot';
import { RestoreCancelledError, RestoreFailedError } from './restore-errors';
import { chooseSnapshot, type RestorePoint } from './restore-point';
import type { StoredOplogEntry } from './stored-oplog';

/** The applier's surface a replay uses (`OplogApplier` of `@tidemark/oplog-apply`). */
export interface ReplayApplier {
  applyEntry(entry: unknown): Promise<unknown>;
  takeMissingDocuments(): readonly { readonly sourceNs: string; readonly id: unknown }[];
  /** First entry of the oldest open transaction (one not committed by T). */
  resumeFrom(): OpTime | undefined;
}

export interface PointInTimeRequest extends Omit<RestoreSnapshotRequest, 'snapshot' | 'documents'> {
  /** The job's complete snapshots. */
  readonly snapshots: readonly RestoreSnapshot[];
  readonly window: RestorableWindow | undefined;
  readonly point: RestorePoint;
  /** The documents of a namespace of a snapshot. */
  readonly documents: (snapshot: RestoreSnapshot, sourceNs: string) => AsyncIterable<Uint8Array>;
  /** The stored oplog entries of a sync after a position (`storedOplogEntries`). */
  readonly oplog: (syncId: string, after: OpTime) => AsyncIterable<StoredOplogEntry>;
  /** An applier writing into the target with the restore's namespace mapping. */
  readonly applier: (mapNamespace: (sourceNs: string) => string | null) => ReplayApplier;
  /** Now (to refuse a T in the future). */
  readonly now?: Date;
}

export interface PointInTimeResult extends RestoreSnapshotResult {
  /** The state restored: the last entry applied (the snapshot's position when none was). */
  readonly at: OplogPosition;
  readonly entries: number;
}

/** Updates during the replay found no document: the snapshot and the stored oplog disagree. Not retriable. */
export class ReplayMissingDocumentsError extends TidemarkError {
  override readonly name: string = 'ReplayMissingDocumentsError';
  constructor(readonly missing: readonly { readonly sourceNs: string; readonly id: unknown }[]) {
    super(
      `${missing.length} replayed update(s) found no document in the restored snapshot (first: ${missing[0]?.sourceNs} ` +
        `${String(missing[0]?.id)}): the snapshot and the stored oplog disagree`,
      { retriable: false },
    );
  }
}

function wallOf(entry: StoredOplogEntry): Date | undefined {
  const wall = entry.doc['wall'];
  return wall instanceof Date ? wall : undefined;
}

/** Whether an entry lies after the point (not applied, nothing later is). */
function beyond(entry: StoredOplogEntry, point: RestorePoint): boolean {
  if (point.kind === 'op-time') return compareOpTime(entry.ts, point.opTime) > 0;
  const wall = wallOf(entry);
  return (
    positionMillis(wall === undefined ? { opTime: entry.ts } : { opTime: entry.ts, wallTime: wall }) >
    point.at.getTime()
  );
}

export async function restorePointInTime(request: PointInTimeRequest): Promise<PointInTimeResult> {
  const snapshot = chooseSnapshot(
    request.snapshots,
    request.window,
    request.point,
    request.now ?? new Date(),
  );
  const selection = request.selection ?? SELECT_ALL;
  const plan = planNamespaces(snapshot, selection);
  await refuseNonEmpty(request.target, plan, request.drop ?? false);
  const ledger = new RestoreLedger(plan);
  const reporter = new ProgressReporter(
    ledger,
    request.onProgress,
    request.progressIntervalMs ?? 1000,
    request.clock ?? Date.now,
  );
  let at: OplogPosition =
    snapshot.opWallTime === undefined
      ? { opTime: snapshot.opTime }
      : { opTime: snapshot.opTime, wallTime: snapshot.opWallTime };
  try {
    await request.target.begin(plan);
    await writeSnapshotNamespaces(
      { ...request, snapshot, documents: (ns) => request.documents(snapshot, ns) },
      plan,
      ledger,
      reporter,
    );
    await request.target.end();
    const applier = request.applier(namespaceMapping(selection));
    for await (const entry of request.oplog(snapshot.syncId, snapshot.opTime)) {
      if (beyond(entry, request.point)) break;
      if (request.signal?.aborted === true) throw new RestoreCancelledError(ledger.written());
      await applier.applyEntry(entry.doc);
      ledger.entries += 1;
      ledger.replayedTo = entry.ts;
      const wall = wallOf(entry);
      at = wall === undefined ? { opTime: entry.ts } : { opTime: entry.ts, wallTime: wall };
      reporter.maybe();
    }
    const missing = applier.takeMissingDocuments();
    if (missing.length > 0) throw new ReplayMissingDocumentsError(missing);
  } catch (error) {
    if (error instanceof RestoreCancelledError) throw error;
    throw new RestoreFailedError(ledger.written(), error);
  }
  reporter.final();
  return { ...summarize(snapshot.snapshotId, plan, ledger), at, entries: ledger.entries };
}
