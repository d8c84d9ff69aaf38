/**
 * Restores as job-state records them. A restore runs in the CLI's process; the CLI calls {@link RestoreService}
 * through the API to register it (before writing anything), report progress, learn whether a user asked to cancel
 * it, and finish it. Each change is computed by the pure functions of `restore-catalog.ts`, written with a
 * compare-and-set on the entry's revision, and then published as a `RestoreEvent` (`RestoreEventPublisher`;
 * `progressed` at most once per restore every `progressEventIntervalMs`).
 *
 * Publishing follows the write: when it fails, the call fails (retriable) with the change stored. Finishing or
 * cancelling again publishes the event again (events carry the whole summary, so a duplicate is harmless). A
 * restore whose STARTED event cannot be published is recorded failed and refused (nothing was written yet).
 *
 * A running restore not heard from for `abandonAfterMs` (the CLI reports at least every few seconds) is recorded
 * failed with `withAbandon`'s reason and a `failed` event, by whoever sees it first: a read of it (`get`, `list`) or
 * job-state's periodic `reapAbandoned`. So a killed `tidemark restore` never stays `running`.
 */
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
  withCancelRequest,
  withFinish,
  withHeartbeat,
  withProgress,
  type RestoreCatalog,
  type RestoreEntry,
  type RestoreEntryProgress,
  type RestoreFinish,
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
      const entry = newRestoreEntry({
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
      if (await this.options.restores.insert(entry)) {
        try {
          await this.publish(entry, 'started');
        } catch (err) {
          // Nothing was written yet: the record ends failed, and the CLI, refused, writes nothing.
          const failed = withFinish(
            entry,
            { state: 'failed', reason: 'its STARTED event could not be published' },
            now,
          );
          if (failed !== undefined) await this.options.restores.replace(failed, entry.revision);
          throw new TidemarkError(
            `restore not started: its STARTED event could not be published on the bus; nothing was written, run it again`,
            { retriable: true, cause: err },
          );
        }
        return entry;
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
    const { entry } = await this.update(restoreId, (e, now) => {
      const next = withProgress(e, progress, now);
      moved = next !== undefined;
      return next ?? withHeartbeat(e, now);
    });
    const changed = moved;
    const last = this.progressPublishedAt.get(restoreId);
    const now = this.clock().getTime();
    if (changed && (last === undefined || now - last >= this.progressEventIntervalMs)) {
      await this.publish(entry, 'progressed');
      this.progressPublishedAt.set(restoreId, now);
    }
    return entry;
  }

  /** A user's request to cancel: the CLI sees `cancelRequested`, stops between batches and finishes it cancelled. */
  async requestCancel(restoreId: string): Promise<RestoreEntry> {
    const { entry } = await this.update(restoreId, (e, now) => withCancelRequest(e, now));
    await this.publish(entry, 'cancel-requested');
    return entry;
  }

  /** Ends the restore: complete, failed or cancelled (with the reason). Repeating the same finish is harmless. */
  async finish(restoreId: string, finish: RestoreFinish): Promise<RestoreEntry> {
    const { entry } = await this.update(restoreId, (e, now) => withFinish(e, finish, now));
    this.progressPublishedAt.delete(restoreId);
    await this.publish(
      entry,
      entry.state === 'complete' ? 'completed' : entry.state === 'failed' ? 'failed' : 'cancelled',
    );
    return entry;
  }

  /** The restore as recorded; an abandoned one is recorded failed first. */
  async get(restoreId: string): Promise<RestoreEntry> {
    const entry = await this.options.restores.get(restoreId);
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
    try {
      const { entry: next, changed } = await this.update(entry.restoreId, (e, now) =>
        isAbandoned(e, now, this.abandonAfterMs) ? withAbandon(e, now) : undefined,
      );
      if (changed) {
        this.progressPublishedAt.delete(entry.restoreId);
        await this.publish(next, 'failed');
      }
      return next;
    } catch (err) {
      this.options.warn?.(
        `restore ${entry.restoreId}: could not record it failed as abandoned ` +
          `(${err instanceof Error ? err.message : String(err)}); trying again on the next read`,
      );
      return entry;
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

  private async publish(entry: RestoreEntry, kind: RestoreEventKind): Promise<void> {
    try {
      await this.options.events.publish(restoreEvent(entry, kind, this.clock()));
    } catch (err) {
      throw new TidemarkError(
        `restore ${entry.restoreId} is recorded ${entry.state}` +
          `${entry.at === undefined ? '' : ` at ${formatOpTime(entry.at.opTime)}`}, but its ${kind} event ` +
          `could not be published on the bus; repeat the request`,
        { retriable: true, cause: err },
      );
    }
  }
}
