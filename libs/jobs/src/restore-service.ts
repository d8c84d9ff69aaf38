/**
 * Restores as job-state records them. A restore runs in the CLI's process; the CLI calls {@link RestoreService}
 * through the API to register it (before writing anything), report progress, learn whether a user asked to cancel
 * it, and finish it. Each change is computed by the pure functions of `restore-catalog.ts`, written with a
 * compare-and-set on the entry's revision, and then published as a `RestoreEvent` (`RestoreEventPublisher`;
 * `progressed` at most once per restore every `progressEventIntervalMs`).
 *
 * Events of state changes (started, cancel-requested, completed, failed, cancelled) go through the restore's outbox:
 * the change and the event it owes are one write (`withEvent`), the event is published after it, and then taken
 * out of the outbox (`withPublished`). When publishing fails the call fails (retriable) with the change and its
 * event stored; repeating the call, or job-state's periodic {@link RestoreService.flushUnpublished}, publishes what
 * is still owed, so a crash or a bus outage between the write and the publish loses no event. An event published
 * late carries the restore's summary as of its publication; its `event` and `at` are those of the change. A
 * duplicate (the outbox cleared after a crash that followed the publish) is harmless: events carry the whole
 * summary. `progressed` events stay out of the outbox: they are throttled and the next one supersedes them. A
 * restore whose STARTED event cannot be published is recorded failed and refused (nothing was written yet).
 *
 * A running restore not heard from for `abandonAfterMs` (the CLI reports at least every few seconds) is recorded
 * failed with `withAbandon`'s reason and a `failed` event, by whoever sees it first: a read of it (`get`, `list`) or
 * job-state's periodic `reapAbandoned`. So a killed `tidemark restore` never stays `running`.
 */
import { wellFormedJobIds } from './job-id';
import { randomInt } from 'node:crypto';
import {
  formatOpTime,
  TidemarkError,
  type RestoreEventKind,
  type RestoreEventPublisher,
} from '@tidemark/domain';
import { KeyedMutex } from '@tidemark/util';
import { JobNotFoundError } from './job-errors';
import type { JobRepository } from './ports';
import { SnapshotNotFoundError } from './job-errors';
import {
  newRestoreEntry,
  RestoreNotAllowedError,
  RestoreNotFoundError,
  RestoreValidationError,
  isAbandoned,
  restoreEvent,
  withAbandon,
  withEvent,
  withPublished,
  withCancelRequest,
  withFinish,
  withHeartbeat,
  withProgress,
  type RestoreCatalog,
  type RestoreEntry,
  type RestoreEntryProgress,
  type RestoreFinish,
  type UnpublishedRestoreEvent,
} from './restore-catalog';
import type { BeginRestoreInput } from './restore-input';
import type { SnapshotCatalog } from './snapshot-catalog';
import { redactUri } from './views';

export interface RestoreServiceOptions {
  readonly jobs: JobRepository;
  readonly snapshots: SnapshotCatalog;
  readonly restores: RestoreCatalog;
  readonly events: RestoreEventPublisher;
  readonly clock?: () => Date;
  /** Least time between two `progressed` events of one restore; default {@link DEFAULT_PROGRESS_EVENT_MS}. */
  readonly progressEventIntervalMs?: number;
  /** Compare-and-set attempts before giving up (retriable); default 8. */
  readonly maxAttempts?: number;
  /** A running restore not heard from for longer is recorded failed; default {@link DEFAULT_RESTORE_ABANDON_MS}. */
  readonly abandonAfterMs?: number;
  /** Told when recording an abandoned restore failed could not complete (it is tried again on the next read). */
  readonly warn?: (line: string) => void;
}

export const DEFAULT_PROGRESS_EVENT_MS = 5_000;
/** Two minutes: the CLI reports at least every {@link RESTORE_HEARTBEAT_MS}, so this is many missed reports. */
export const DEFAULT_RESTORE_ABANDON_MS = 120_000;
/** Longest time between two reports of a running CLI restore, progress or not. */
export const RESTORE_HEARTBEAT_MS = 10_000;
/** Largest page of {@link RestoreService.list}. */
export const MAX_RESTORE_PAGE = 1_000;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Restore ids: `r-<jobId>-<UTC time YYYYMMDDTHHMMSSZ>-<4 random [a-z0-9]>`, sortable by time within a job. */
export const RESTORE_ID = /^r-([a-z0-9]{1,64})-(\d{8}T\d{6}Z)-([a-z0-9]{4})$/;

export function newRestoreId(jobId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  let suffix = '';
  for (let n = 0; n < 4; n++) suffix += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return `r-${jobId}-${stamp}-${suffix}`;
}

export class RestoreService {
  private readonly clock: () => Date;
  private readonly progressEventIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly abandonAfterMs: number;
  private readonly writes = new KeyedMutex();
  /** When each running restore's last `progressed` event went out (this replica). */
  private readonly progressPublishedAt = new Map<string, number>();

  constructor(private readonly options: RestoreServiceOptions) {
    this.options = { ...options, jobs: wellFormedJobIds(options.jobs) };
    this.clock = options.clock ?? (() => new Date());
    this.progressEventIntervalMs = options.progressEventIntervalMs ?? DEFAULT_PROGRESS_EVENT_MS;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.abandonAfterMs = options.abandonAfterMs ?? DEFAULT_RESTORE_ABANDON_MS;
  }

  /**
   * Registers a running restore. The job must exist (`JobNotFoundError`); a snapshot restore needs a snapshot of
   * the catalog (`SnapshotNotFoundError`) that is complete (`RestoreNotAllowedError`), and takes its position from it.
   */
  async begin(input: BeginRestoreInput): Promise<RestoreEntry> {
    let jobId = input.jobId;
    let at: RestoreEntry['at'];
    if (input.snapshotId !== undefined) {
      const snapshot = await this.options.snapshots.get(input.snapshotId);
      if (snapshot === undefined) throw new SnapshotNotFoundError(input.snapshotId);
      if (jobId !== undefined && jobId !== snapshot.jobId)
        throw new RestoreValidationError([
          `snapshot ${snapshot.snapshotId} belongs to job ${snapshot.jobId}, not ${jobId}`,
        ]);
      if (snapshot.state !== 'complete' || snapshot.opTime === undefined)
        throw new RestoreNotAllowedError(
          undefined,
          `snapshot ${snapshot.snapshotId} is ${snapshot.state}: only a complete snapshot can be restored`,
        );
      jobId = snapshot.jobId;
      at = { opTime: snapshot.opTime, wallTime: snapshot.opWallTime };
    }
    if (jobId === undefined) throw new RestoreValidationError(['a point-in-time restore needs jobId']);
    if ((await this.options.jobs.get(jobId)) === undefined) throw new JobNotFoundError(jobId);
    for (let attempt = 1; ; attempt++) {
      const now = this.clock();
      const fresh = newRestoreEntry({
        restoreId: newRestoreId(jobId, now),
        jobId,
        kind: input.snapshotId === undefined ? 'point-in-time' : 'snapshot',
        snapshotId: input.snapshotId,
        point: input.point,
        at,
        target: redactUri(input.target),
        selection: input.selection,
        drop: input.drop,
        now,
      });
      const entry = withEvent(fresh, 'started', now);
      if (await this.options.restores.insert(entry)) {
        let published: RestoreEntry;
        try {
          published = await this.publishOwed(entry);
        } catch (err) {
          // Nothing was written yet: the record ends failed (both events stay owed), and the CLI, refused, writes
          // nothing.
          const failed = withFinish(
            entry,
            { state: 'failed', reason: 'its STARTED event could not be published' },
            now,
          );
          if (failed !== undefined)
            await this.options.restores.replace(withEvent(failed, 'failed', now), entry.revision);
          throw new TidemarkError(
            `restore not started: its STARTED event could not be published on the bus; nothing was written, run it again`,
            { retriable: true, cause: err },
          );
        }
        return published;
      }
      if (attempt >= this.maxAttempts)
        throw new TidemarkError(`could not draw a free restore id for job ${jobId}`, { retriable: true });
    }
  }

  /**
   * Records progress (never backwards), or only that the CLI was heard from when nothing moved; publishes
   * `progressed` at most once per interval, and only for progress that moved.
   */
  async progress(restoreId: string, progress: RestoreEntryProgress): Promise<RestoreEntry> {
    let moved = false;
    let { entry } = await this.update(restoreId, (e, now) => {
      const next = withProgress(e, progress, now);
      moved = next !== undefined;
      return next ?? withHeartbeat(e, now);
    });
    const changed = moved;
    const last = this.progressPublishedAt.get(restoreId);
    const now = this.clock().getTime();
    if (changed && (last === undefined || now - last >= this.progressEventIntervalMs)) {
      entry = await this.publishOwed(entry); // what is owed goes first, so events keep their order
      await this.publish(entry, 'progressed');
      this.progressPublishedAt.set(restoreId, now);
    }
    return entry;
  }

  /** A user's request to cancel: the CLI sees `cancelRequested`, stops between batches and finishes it cancelled. */
  async requestCancel(restoreId: string): Promise<RestoreEntry> {
    const { entry } = await this.update(restoreId, (e, now) => {
      const next = withCancelRequest(e, now);
      return next && withEvent(next, 'cancel-requested', now);
    });
    return this.publishOwed(entry);
  }

  /** Ends the restore: complete, failed or cancelled (with the reason). Repeating the same finish is harmless. */
  async finish(restoreId: string, finish: RestoreFinish): Promise<RestoreEntry> {
    const { entry } = await this.update(restoreId, (e, now) => {
      const next = withFinish(e, finish, now);
      return next && withEvent(next, endEvent(next), now);
    });
    this.progressPublishedAt.delete(restoreId);
    return this.publishOwed(entry);
  }

  /** The restore as recorded; an abandoned one is recorded failed first. */
  async get(restoreId: string): Promise<RestoreEntry> {
    // An id that cannot be a restore id is not looked up (see `wellFormedJobIds`).
    const entry = RESTORE_ID.test(restoreId) ? await this.options.restores.get(restoreId) : undefined;
    if (entry === undefined) throw new RestoreNotFoundError(restoreId);
    return this.settled(entry);
  }

  /** Records every abandoned running restore failed (job-state calls it periodically); returns those it ended. */
  async reapAbandoned(): Promise<RestoreEntry[]> {
    const running = await this.options.restores.list({ state: 'running', limit: MAX_RESTORE_PAGE });
    const ended: RestoreEntry[] = [];
    for (const entry of running) {
      const now = await this.settled(entry);
      if (now.state !== 'running' && entry.state === 'running') ended.push(now);
    }
    return ended;
  }

  /**
   * Publishes the events restores still owe the bus (job-state calls it at start-up and periodically), each restore
   * on its own; returns how many restores were cleared. Throws, after trying them all, when some still owe events.
   */
  async flushUnpublished(): Promise<number> {
    const owing = await this.options.restores.list({ unpublished: true, limit: MAX_RESTORE_PAGE });
    let cleared = 0;
    const failed: unknown[] = [];
    for (const entry of owing) {
      try {
        await this.publishOwed(entry);
        cleared++;
      } catch (err) {
        failed.push(err);
      }
    }
    if (failed.length > 0) {
      const first = failed[0] instanceof Error ? failed[0].message : String(failed[0]);
      throw new TidemarkError(`${failed.length} of ${owing.length} restores still owe events: ${first}`, {
        retriable: true,
        cause: failed[0],
      });
    }
    return cleared;
  }

  /** Restores newest first, of one job (which must exist) or of all. */
  /**
   * Restores newest first, of one job or of all; with `projects`, only those of jobs in these projects (an API
   * key's projects), taken from the newest `limit` restores.
   */
  async list(
    query: { readonly jobId?: string; readonly limit?: number; readonly projects?: readonly string[] } = {},
  ): Promise<RestoreEntry[]> {
    if (query.jobId !== undefined && (await this.options.jobs.get(query.jobId)) === undefined)
      throw new JobNotFoundError(query.jobId);
    let entries = await this.options.restores.list({
      ...(query.jobId === undefined ? {} : { jobId: query.jobId }),
      limit: Math.min(query.limit ?? MAX_RESTORE_PAGE, MAX_RESTORE_PAGE),
    });
    const projects = query.projects;
    if (projects !== undefined) {
      const visible = new Set<string>();
      for (const jobId of new Set(entries.map((e) => e.jobId))) {
        const job = await this.options.jobs.get(jobId);
        if (job !== undefined && projects.includes(job.project)) visible.add(jobId);
      }
      entries = entries.filter((e) => visible.has(e.jobId));
    }
    return Promise.all(entries.map((e) => this.settled(e)));
  }

  /**
   * `entry`, or, when it is abandoned, the entry recorded failed (and its `failed` event published). When that
   * cannot be done now the entry is returned as read, with a warning; the next read or sweep tries again.
   */
  private async settled(entry: RestoreEntry): Promise<RestoreEntry> {
    if (!isAbandoned(entry, this.clock(), this.abandonAfterMs)) return entry;
    let next: RestoreEntry;
    try {
      const updated = await this.update(entry.restoreId, (e, now) => {
        const failed = isAbandoned(e, now, this.abandonAfterMs) ? withAbandon(e, now) : undefined;
        return failed && withEvent(failed, 'failed', now);
      });
      next = updated.entry;
      if (updated.changed) this.progressPublishedAt.delete(entry.restoreId);
    } catch (err) {
      this.options.warn?.(
        `restore ${entry.restoreId}: could not record it failed as abandoned ` +
          `(${err instanceof Error ? err.message : String(err)}); trying again on the next read`,
      );
      return entry;
    }
    try {
      return await this.publishOwed(next);
    } catch (err) {
      this.options.warn?.(err instanceof Error ? err.message : String(err));
      return next; // recorded failed; its event stays owed
    }
  }

  private update(
    restoreId: string,
    change: (entry: RestoreEntry, now: Date) => RestoreEntry | undefined,
  ): Promise<{ entry: RestoreEntry; changed: boolean }> {
    return this.writes.run(restoreId, async () => {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const entry = await this.options.restores.get(restoreId);
        if (entry === undefined) throw new RestoreNotFoundError(restoreId);
        const next = change(entry, this.clock());
        if (next === undefined) return { entry, changed: false };
        if (await this.options.restores.replace(next, entry.revision)) return { entry: next, changed: true };
      }
      throw new TidemarkError(`restore ${restoreId} changed concurrently ${this.maxAttempts} times; retry`, {
        retriable: true,
      });
    });
  }

  /**
   * Publishes the events `entry` owes, oldest first, then takes them out of its outbox; returns the entry as it is
   * then. A failed publish throws (the events stay owed); a failed clearing only means they go out again later.
   */
  private async publishOwed(entry: RestoreEntry): Promise<RestoreEntry> {
    const owed: readonly UnpublishedRestoreEvent[] = entry.unpublished;
    if (owed.length === 0) return entry;
    for (const event of owed) await this.publish(entry, event.kind, event.at);
    try {
      return (await this.update(entry.restoreId, (e) => withPublished(e, owed))).entry;
    } catch (err) {
      this.options.warn?.(
        `restore ${entry.restoreId}: its events went out but could not be marked published ` +
          `(${err instanceof Error ? err.message : String(err)}); they will be published again`,
      );
      return entry;
    }
  }

  private async publish(entry: RestoreEntry, kind: RestoreEventKind, at?: Date): Promise<void> {
    try {
      await this.options.events.publish(restoreEvent(entry, kind, at ?? this.clock()));
    } catch (err) {
      throw new TidemarkError(
        `restore ${entry.restoreId} is recorded ${entry.state}` +
          `${entry.at === undefined ? '' : ` at ${formatOpTime(entry.at.opTime)}`}, but its ${kind} event ` +
          `could not be published on the bus yet; it stays owed and job-state publishes it once the bus answers ` +
          `(repeating the request publishes it now)`,
        { retriable: true, cause: err },
      );
    }
  }
}

/** The event of an ended restore's end. */
function endEvent(entry: RestoreEntry): RestoreEventKind {
  return entry.state === 'complete' ? 'completed' : entry.state === 'failed' ? 'failed' : 'cancelled';
}
