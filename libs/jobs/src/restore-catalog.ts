/**
 * job-state's record of restores. A restore runs in the CLI's process (`tidemark restore`); the CLI registers it
 * here before writing anything, reports its progress, polls whether a user asked to cancel it, and finishes it.
 * One entry per restore, the states and their legal changes a table:
 *
 * ```
 * running ──finish──▶ complete | failed | cancelled      (a finished restore is never reopened)
 *    ├── cancel request: sets `cancelRequested` (the state stays running until the CLI stops and finishes it)
 *    └── no word from the CLI for the abandon time (`isAbandoned`) ──▶ failed (`withAbandon`)
 * ```
 * The CLI reports at least every heartbeat (progress or not: `withHeartbeat` moves `updatedAt`), so a running entry
 * whose `updatedAt` is older than the abandon time belongs to a process that was killed or cut off; job-state
 * records it failed, and a CLI that comes back sees that and stops.
 * Progress only moves forward (documents, bytes, entries, each namespace's documents; a namespace once done stays
 * done). The functions here are pure; {@link RestoreService} stores their results and publishes the events.
 */
import {
  formatOpTime,
  TidemarkError,
  type OpTime,
  type RestoreEvent,
  type RestoreEventKind,
  type RestoreKind,
} from '@tidemark/domain';

export const RESTORE_STATES = ['running', 'complete', 'failed', 'cancelled'] as const;
export type RestoreState = (typeof RESTORE_STATES)[number];
/** The states a restore ends in. */
export type RestoreEndState = Exclude<RestoreState, 'running'>;
export const RESTORE_END_STATES: readonly RestoreEndState[] = ['complete', 'failed', 'cancelled'];

/** What a restore writes: `--include`, `--exclude`, `--rename FROM=TO` (as given). */
export interface RestoreSelectionSummary {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly renames: readonly string[];
}

/** A restore's progress as last reported; namespaces are the target's (after renames). */
export interface RestoreEntryProgress {
  readonly documents: number;
  readonly bytes: number;
  readonly entries: number;
  readonly namespaces: Readonly<Record<string, { readonly documents: number; readonly done: boolean }>>;
}

export const NO_PROGRESS: RestoreEntryProgress = Object.freeze({
  documents: 0,
  bytes: 0,
  entries: 0,
  namespaces: Object.freeze({}),
});

export interface RestoreEntry {
  readonly restoreId: string;
  readonly jobId: string;
  readonly kind: RestoreKind;
  /** The snapshot restored; for a point-in-time restore known once it completed. */
  readonly snapshotId: string | undefined;
  /** Point-in-time restores: T as the user gave it (ISO instant or `t:i`). */
  readonly point: string | undefined;
  /** The position the target is at: the snapshot's from the start, a point-in-time restore's once complete. */
  readonly at: { readonly opTime: OpTime; readonly wallTime: Date | undefined } | undefined;
  /** The target deployment's URI without credentials (`redactUri`). */
  readonly target: string;
  readonly selection: RestoreSelectionSummary;
  readonly drop: boolean;
  readonly state: RestoreState;
  readonly cancelRequested: boolean;
  readonly progress: RestoreEntryProgress;
  /** failed, cancelled: why, and what was written. */
  readonly reason: string | undefined;
  readonly startedAt: Date;
  readonly updatedAt: Date;
  readonly endedAt: Date | undefined;
  /** Counts the entry's writes (compare-and-set). */
  readonly revision: number;
  /**
   * The restore's outbox: events of changes recorded with the change, oldest first, not yet confirmed published.
   * A crash or a bus outage between the write and the publish leaves them here, and job-state publishes them later.
   */
  readonly unpublished: readonly UnpublishedRestoreEvent[];
}

/** An event a recorded change owes the bus: which event, and when the change happened. */
export interface UnpublishedRestoreEvent {
  readonly kind: RestoreEventKind;
  readonly at: Date;
}

export interface RestoreListQuery {
  readonly jobId?: string;
  readonly state?: RestoreState;
  /** Only restores with events still to publish (`unpublished` not empty). */
  readonly unpublished?: boolean;
  readonly limit: number;
}

/** Whether `entry` matches `query`'s job and state (not its limit). */
export function matchesRestoreQuery(entry: RestoreEntry, query: RestoreListQuery): boolean {
  return (
    (query.jobId === undefined || entry.jobId === query.jobId) &&
    (query.state === undefined || entry.state === query.state) &&
    (query.unpublished !== true || entry.unpublished.length > 0)
  );
}

/**
 * Where restores are recorded. Every write is durable when it resolves; "not found" is `undefined`.
 * `insert` refuses (false) a taken id; `replace` is a compare-and-set on `revision` (resolves false, storing
 * nothing, when the stored entry changed meanwhile), so two job-state replicas cannot both change one restore.
 */
export interface RestoreCatalog {
  insert(entry: RestoreEntry): Promise<boolean>;
  get(restoreId: string): Promise<RestoreEntry | undefined>;
  replace(entry: RestoreEntry, expectedRevision: number): Promise<boolean>;
  /** Restores newest first (by `startedAt`, then id), of one job or of all, in one state or any; at most `limit`. */
  list(query: RestoreListQuery): Promise<RestoreEntry[]>;
}

/** No restore has this id. Not retriable; the API answers 404. */
export class RestoreNotFoundError extends TidemarkError {
  override readonly name: string = 'RestoreNotFoundError';
  constructor(readonly restoreId: string) {
    super(`restore ${restoreId} not found`, { retriable: false });
  }
}

/** A change the restore's state does not allow (or a restore of a snapshot that cannot be restored); 409. */
export class RestoreNotAllowedError extends TidemarkError {
  override readonly name: string = 'RestoreNotAllowedError';
  constructor(
    readonly restoreId: string | undefined,
    reason: string,
  ) {
    super(reason, { retriable: false });
  }
}

/** A restore request is invalid; `problems` lists every reason as a sentence. Not retriable; 400. */
export class RestoreValidationError extends TidemarkError {
  override readonly name: string = 'RestoreValidationError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid restore request: ${problems.join('; ')}`, { retriable: false });
  }
}

/** A new running entry. */
export function newRestoreEntry(fields: {
  readonly restoreId: string;
  readonly jobId: string;
  readonly kind: RestoreKind;
  readonly snapshotId: string | undefined;
  readonly point: string | undefined;
  readonly at: RestoreEntry['at'];
  readonly target: string;
  readonly selection: RestoreSelectionSummary;
  readonly drop: boolean;
  readonly now: Date;
}): RestoreEntry {
  const { now, ...rest } = fields;
  return {
    ...rest,
    state: 'running',
    cancelRequested: false,
    progress: NO_PROGRESS,
    reason: undefined,
    startedAt: now,
    updatedAt: now,
    endedAt: undefined,
    revision: 1,
    unpublished: [],
  };
}

/**
 * `entry` owing the bus `kind` (at `at`), appended to its outbox in the same write as the change it reports. A kind
 * already waiting is not added again (a repeated cancel request owes one event), so the outbox stays small.
 */
export function withEvent(entry: RestoreEntry, kind: RestoreEventKind, at: Date): RestoreEntry {
  if (entry.unpublished.some((u) => u.kind === kind)) return entry;
  return { ...entry, unpublished: [...entry.unpublished, { kind, at }] };
}

/**
 * `entry` without the events in `published` (matched by kind and time); undefined when none of them is still
 * there. Only the revision moves: publishing is not news from the restoring process (`updatedAt` stays).
 */
export function withPublished(
  entry: RestoreEntry,
  published: readonly UnpublishedRestoreEvent[],
): RestoreEntry | undefined {
  const done = (u: UnpublishedRestoreEvent) =>
    published.some((p) => p.kind === u.kind && p.at.getTime() === u.at.getTime());
  const left = entry.unpublished.filter((u) => !done(u));
  if (left.length === entry.unpublished.length) return undefined;
  return { ...entry, unpublished: left, revision: entry.revision + 1 };
}

function refuseEnded(entry: RestoreEntry, what: string): void {
  if (entry.state !== 'running') {
    throw new RestoreNotAllowedError(
      entry.restoreId,
      `restore ${entry.restoreId} is ${entry.state}: a finished restore cannot ${what}`,
    );
  }
}

/** Problems with `next` as a successor of `previous` (progress never goes back), as sentences. */
export function progressRegressions(previous: RestoreEntryProgress, next: RestoreEntryProgress): string[] {
  const problems: string[] = [];
  for (const field of ['documents', 'bytes', 'entries'] as const) {
    if (next[field] < previous[field])
      problems.push(`${field} went back from ${previous[field]} to ${next[field]}`);
  }
  for (const [ns, before] of Object.entries(previous.namespaces)) {
    const after = next.namespaces[ns];
    if (after === undefined) problems.push(`namespace ${ns} is missing (it was reported before)`);
    else if (after.documents < before.documents)
      problems.push(`${ns}.documents went back from ${before.documents} to ${after.documents}`);
    else if (before.done && !after.done) problems.push(`${ns} was done and is not any more`);
  }
  return problems;
}

/**
 * The entry with new progress; undefined when nothing changes. Throws {@link RestoreNotAllowedError} for a
 * finished restore or progress that goes back.
 */
export function withProgress(
  entry: RestoreEntry,
  progress: RestoreEntryProgress,
  now: Date,
): RestoreEntry | undefined {
  refuseEnded(entry, 'make progress');
  const back = progressRegressions(entry.progress, progress);
  if (back.length > 0) {
    throw new RestoreNotAllowedError(
      entry.restoreId,
      `restore ${entry.restoreId}: progress never goes back: ${back.join('; ')}`,
    );
  }
  if (JSON.stringify(sortedProgress(progress)) === JSON.stringify(sortedProgress(entry.progress)))
    return undefined;
  return { ...entry, progress: sortedProgress(progress), updatedAt: now, revision: entry.revision + 1 };
}

/** The running entry, heard from at `now` (its progress unchanged). Throws for a finished restore. */
export function withHeartbeat(entry: RestoreEntry, now: Date): RestoreEntry {
  refuseEnded(entry, 'report progress');
  return { ...entry, updatedAt: now, revision: entry.revision + 1 };
}

/** A running restore not heard from for longer than `abandonAfterMs` at `now`: its process is gone. */
export function isAbandoned(entry: RestoreEntry, now: Date, abandonAfterMs: number): boolean {
  return entry.state === 'running' && now.getTime() - entry.updatedAt.getTime() > abandonAfterMs;
}

/** The abandoned entry recorded failed, with a reason saying what happened and what to do. */
export function withAbandon(entry: RestoreEntry, now: Date): RestoreEntry | undefined {
  const written = `${entry.progress.documents} documents and ${entry.progress.entries} oplog entries were reported written`;
  return withFinish(
    entry,
    {
      state: 'failed',
      reason:
        `no word from the restoring process since ${entry.updatedAt.toISOString()}: it was killed or lost its ` +
        `connection to job-state (${written}); run the same restore again, with --drop where the target was ` +
        'partly written',
    },
    now,
  );
}

/** The entry with the user's cancel request; undefined when it was already requested. */
export function withCancelRequest(entry: RestoreEntry, now: Date): RestoreEntry | undefined {
  refuseEnded(entry, 'be cancelled');
  if (entry.cancelRequested) return undefined;
  return { ...entry, cancelRequested: true, updatedAt: now, revision: entry.revision + 1 };
}

/** How a restore ended, as the CLI reports it. */
export interface RestoreFinish {
  readonly state: RestoreEndState;
  /** Required for failed and cancelled. */
  readonly reason?: string;
  /** The final progress, if any (it must not go back either). */
  readonly progress?: RestoreEntryProgress;
  /** The snapshot a point-in-time restore started from. */
  readonly snapshotId?: string;
  /** The position the target is at (complete restores). */
  readonly at?: { readonly opTime: OpTime; readonly wallTime: Date | undefined };
}

/**
 * The finished entry; undefined when it already ended the same way (a repeated finish). Throws
 * {@link RestoreNotAllowedError} when it ended otherwise, or for progress that goes back.
 */
export function withFinish(entry: RestoreEntry, finish: RestoreFinish, now: Date): RestoreEntry | undefined {
  if (entry.state === finish.state) return undefined;
  refuseEnded(entry, `become ${finish.state}`);
  let progress = entry.progress;
  if (finish.progress !== undefined) {
    const back = progressRegressions(entry.progress, finish.progress);
    if (back.length > 0) {
      throw new RestoreNotAllowedError(
        entry.restoreId,
        `restore ${entry.restoreId}: progress never goes back: ${back.join('; ')}`,
      );
    }
    progress = sortedProgress(finish.progress);
  }
  if (
    finish.snapshotId !== undefined &&
    entry.snapshotId !== undefined &&
    finish.snapshotId !== entry.snapshotId
  ) {
    throw new RestoreNotAllowedError(
      entry.restoreId,
      `restore ${entry.restoreId} restores snapshot ${entry.snapshotId}, not ${finish.snapshotId}`,
    );
  }
  return {
    ...entry,
    state: finish.state,
    reason: finish.state === 'complete' ? undefined : finish.reason,
    progress,
    snapshotId: entry.snapshotId ?? finish.snapshotId,
    at: finish.at ?? entry.at,
    updatedAt: now,
    endedAt: now,
    revision: entry.revision + 1,
  };
}

function sortedProgress(p: RestoreEntryProgress): RestoreEntryProgress {
  return {
    documents: p.documents,
    bytes: p.bytes,
    entries: p.entries,
    namespaces: Object.fromEntries(
      Object.keys(p.namespaces)
        .sort()
        .map((ns) => [ns, { documents: p.namespaces[ns]!.documents, done: p.namespaces[ns]!.done }]),
    ),
  };
}

/** The event that tells the bus about `entry` as it is now. */
export function restoreEvent(entry: RestoreEntry, event: RestoreEventKind, at: Date): RestoreEvent {
  return {
    event,
    restoreId: entry.restoreId,
    jobId: entry.jobId,
    kind: entry.kind,
    ...(entry.snapshotId === undefined ? {} : { snapshotId: entry.snapshotId }),
    ...(entry.point === undefined ? {} : { point: entry.point }),
    ...(entry.at === undefined ? {} : { opTime: entry.at.opTime }),
    ...(entry.at?.wallTime === undefined ? {} : { opWallTime: entry.at.wallTime }),
    target: entry.target,
    include: [...entry.selection.include],
    exclude: [...entry.selection.exclude],
    renames: [...entry.selection.renames],
    drop: entry.drop,
    cancelRequested: entry.cancelRequested,
    documents: entry.progress.documents,
    bytes: entry.progress.bytes,
    entries: entry.progress.entries,
    namespaces: Object.entries(entry.progress.namespaces)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([namespace, n]) => ({ namespace, documents: n.documents, done: n.done })),
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
    at,
  };
}

/** A restore as the API and `tidemark restore status --json` show it. */
export interface RestoreView {
  id: string;
  jobId: string;
  kind: RestoreKind;
  state: RestoreState;
  cancelRequested: boolean;
  snapshotId: string | null;
  point: string | null;
  at: { opTime: string; wallTime: string | null } | null;
  target: string;
  include: string[];
  exclude: string[];
  renames: string[];
  drop: boolean;
  documents: number;
  bytes: number;
  entries: number;
  namespaces: Record<string, { documents: number; done: boolean }>;
  reason: string | null;
  startedAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export function restoreView(e: RestoreEntry): RestoreView {
  return {
    id: e.restoreId,
    jobId: e.jobId,
    kind: e.kind,
    state: e.state,
    cancelRequested: e.cancelRequested,
    snapshotId: e.snapshotId ?? null,
    point: e.point ?? null,
    at:
      e.at === undefined
        ? null
        : { opTime: formatOpTime(e.at.opTime), wallTime: e.at.wallTime?.toISOString() ?? null },
    target: e.target,
    include: [...e.selection.include],
    exclude: [...e.selection.exclude],
    renames: [...e.selection.renames],
    drop: e.drop,
    documents: e.progress.documents,
    bytes: e.progress.bytes,
    entries: e.progress.entries,
    namespaces: Object.fromEntries(
      Object.entries(e.progress.namespaces).map(([ns, n]) => [ns, { documents: n.documents, done: n.done }]),
    ),
    reason: e.reason ?? null,
    startedAt: e.startedAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    endedAt: e.endedAt?.toISOString() ?? null,
  };
}

/** Newest first: by `startedAt`, then id (descending). */
export function compareRestoresNewestFirst(a: RestoreEntry, b: RestoreEntry): number {
  return b.startedAt.getTime() - a.startedAt.getTime() || (a.restoreId < b.restoreId ? 1 : -1);
}
