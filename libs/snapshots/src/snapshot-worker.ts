/**
 * `SnapshotWorker`: what the snapshotter does for every job, in plain TypeScript over ports (the app wires Kafka,
 * MongoDB, S3 and the file system):
 * - **on schedule** (`tick`): every job whose state creates snapshots (`active`, phase `complete`) gets a snapshot
 *   when its newest complete one is older than its interval (or it has none); then retention deletes expired
 *   records and grooming frees the blocks nothing retained needs;
 * - **on demand**: `take` (TAKE_SNAPSHOT, with the id job-state chose), `verify` (VERIFY_SNAPSHOT), `remove`
 *   (DELETE_SNAPSHOT), `terminate` (TERMINATE: every snapshot and block of the job goes);
 * - every outcome is a `SnapshotEvent` (started, completed, failed, expired, verified, deleted), which job-state folds.
 *
 * Several snapshotter replicas may run: a job's snapshots and grooming serialize on the store's lock, so a replica
 * that finds the lock held skips the job this tick (the holder is doing the work).
 */
import {
  DEFAULT_SNAPSHOT_STORE,
  isRetriable,
  MIN_OP_TIME,
  newSnapshotId,
  oplogGroomPoint,
  type OplogStore,
  type SnapshotEvent,
  type SnapshotEventPublisher,
  type SnapshotSchedule,
  type SnapshotStoreSpec,
} from '@tidemark/domain';
import { DEFAULT_BLOCK_CODEC, type BlockEncoding, type EncryptionKey } from './block-codec';
import { groom } from './groom';
import type { ApplyFence, HeadSource } from './head-source';
import type { SnapshotManifest } from './manifest';
import { applyRetention } from './retention';
import { SnapshotUnavailableError, StoreLockBusyError } from './snapshot-errors';
import type { SnapshotRecord, SnapshotStore } from './snapshot-store';
import { SnapshotTaker, type SnapshotTimings } from './take-snapshot';
import { describeVerifyReport, verifySnapshot } from './verify-snapshot';

/** A job the snapshotter serves. */
export interface SnapshotJob {
  readonly jobId: string;
  /** The current sync, whose head is copied. */
  readonly syncId: string;
  readonly schedule: SnapshotSchedule;
  readonly store: SnapshotStoreSpec;
}

/** Which jobs get scheduled snapshots, and one job's settings. */
export interface SnapshotJobSource {
  /** Jobs whose state creates snapshots (`active`) and whose current sync is complete. */
  listSnapshotting(): Promise<SnapshotJob[]>;
  /** One job's settings (whatever its state), undefined when unknown. */
  get(jobId: string): Promise<(SnapshotJob & { readonly createsSnapshots: boolean }) | undefined>;
}

export interface SnapshotWorkerDeps {
  readonly jobs: SnapshotJobSource;
  /** The store a job's spec names (the app caches one per spec). */
  readonly storeFor: (spec: SnapshotStoreSpec) => Promise<SnapshotStore>;
  /** The job's encryption key, when its spec names a key file. */
  readonly keyFor: (spec: SnapshotStoreSpec) => Promise<EncryptionKey | undefined>;
  readonly head: HeadSource;
  readonly fence: ApplyFence;
  readonly events: SnapshotEventPublisher;
  /**
   * This process. Each take and each grooming holds the job's lock and fence as `<owner>#<n>`, an owner of its own:
   * a scheduled round and an on-demand snapshot (or a grooming) of one job in this process then exclude each other
   * as two processes would, instead of sharing one hold that the first to finish releases under the other.
   */
  readonly owner: string;
  readonly timings?: Partial<SnapshotTimings>;
  readonly clock?: () => number;
  readonly log: (event: Record<string, unknown>) => void;
  /** The oplog store, groomed past each job's point-in-time window each round; absent: never groomed. */
  readonly oplog?: Pick<OplogStore, 'deleteOplogThrough'>;
  /**
   * Whether a failed snapshot's error is one a retry can fix (the app's classifier of driver and Kafka errors);
   * default: a retriable `TidemarkError`. A retriable failure is thrown back to the command's consumer to retry.
   */
  readonly isRetriable?: (err: unknown) => boolean;
}

export class SnapshotWorker {
  private readonly clock: () => number;
  private running = false;
  /** Operations started, numbering their lock owners. */
  private operations = 0;

  constructor(private readonly deps: SnapshotWorkerDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** One round of the schedule; rounds never overlap (a round still running makes this one a no-op). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const job of await this.deps.jobs.listSnapshotting()) {
        try {
          await this.serve(job);
        } catch (err) {
          this.deps.log({ event: 'snapshot-round-failed', jobId: job.jobId, reason: String(err) });
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * A snapshot now, with `snapshotId` (job-state's) and `requestId`; refused (a `failed` event) unless the job
   * creates snapshots. Throws `SnapshotUnavailableError` / `StoreLockBusyError` (retriable) while the job's lock or
   * fence is busy: the caller retries.
   */
  async take(jobId: string, snapshotId: string, requestId?: string): Promise<SnapshotRecord | undefined> {
    const job = await this.deps.jobs.get(jobId);
    if (job === undefined || !job.createsSnapshots) {
      await this.publish(
        recordlessEvent('failed', jobId, snapshotId, job, this.now(), 'the job is not active', requestId),
      );
      return undefined;
    }
    const store = await this.deps.storeFor(job.store);
    const existing = await store.getSnapshot(jobId, snapshotId);
    if (existing !== undefined && existing.state !== 'in-progress') {
      await this.publish(
        eventOf(existing, existing.state === 'complete' ? 'completed' : 'failed', this.now(), requestId),
      );
      return existing; // a redelivered command: answer again, take nothing twice
    }
    return this.takeFor(job, store, snapshotId, requestId);
  }

  /** Re-reads every block of a snapshot and reports the outcome as a `verified` event. */
  async verify(jobId: string, snapshotId: string, requestId?: string): Promise<void> {
    const job = await this.deps.jobs.get(jobId);
    const store = await this.deps.storeFor(job?.store ?? DEFAULT_SNAPSHOT_STORE);
    const record = await store.getSnapshot(jobId, snapshotId);
    if (record === undefined) {
      await this.publish({
        ...recordlessEvent(
          'verified',
          jobId,
          snapshotId,
          job,
          this.now(),
          'no such snapshot in the store',
          requestId,
        ),
        verify: { ok: false, damagedBlocks: 0 },
      });
      return;
    }
    let key: EncryptionKey | undefined;
    try {
      key = job === undefined ? undefined : await this.deps.keyFor(job.store);
    } catch (err) {
      if ((this.deps.isRetriable ?? isRetriable)(err)) throw err;
      // The key cannot be loaded: the snapshot cannot be checked, which the verify reports (not a damage count).
      this.deps.log({ event: 'snapshot-verify-failed', jobId, snapshotId, reason: String(err) });
      await this.publish({
        ...eventOf(record, 'verified', this.now(), requestId),
        verify: { ok: false, damagedBlocks: 0 },
        reason: `not verified: ${String(err)}`.slice(0, 2000),
      });
      return;
    }
    const report = await verifySnapshot(store, record, key === undefined ? {} : { key });
    this.deps.log({
      event: 'snapshot-verified',
      jobId,
      snapshotId,
      ok: report.ok,
      damage: report.damage.length,
    });
    await this.publish({
      ...eventOf(record, 'verified', this.now(), requestId),
      verify: { ok: report.ok, damagedBlocks: report.damage.length },
      ...(report.ok ? {} : { reason: describeVerifyReport(report).join('; ').slice(0, 2000) }),
    });
  }

  /** Deletes a snapshot's record and grooms its blocks away. */
  async remove(jobId: string, snapshotId: string, requestId?: string): Promise<void> {
    const job = await this.deps.jobs.get(jobId);
    const store = await this.deps.storeFor(job?.store ?? DEFAULT_SNAPSHOT_STORE);
    const record = await store.getSnapshot(jobId, snapshotId);
    await store.deleteSnapshot(jobId, snapshotId);
    await this.groomQuietly(store, jobId);
    await this.publish(
      record === undefined
        ? recordlessEvent(
            'deleted',
            jobId,
            snapshotId,
            job,
            this.now(),
            'deleted (it was not in the store)',
            requestId,
          )
        : { ...eventOf(record, 'deleted', this.now(), requestId), reason: 'deleted on request' },
    );
  }

  /** Terminate: every snapshot, block and lock of the job, in its store. */
  async terminate(jobId: string): Promise<void> {
    const job = await this.deps.jobs.get(jobId);
    const store = await this.deps.storeFor(job?.store ?? DEFAULT_SNAPSHOT_STORE);
    await store.deleteJob(jobId);
    this.deps.log({ event: 'snapshots-terminated', jobId, store: store.kind });
  }

  private async serve(job: SnapshotJob): Promise<void> {
    const store = await this.deps.storeFor(job.store);
    let records = await store.listSnapshots(job.jobId);
    const newest = records.find((r) => r.state === 'complete');
    const due =
      newest === undefined ||
      this.now().getTime() - newest.manifest.takenAt.getTime() >= job.schedule.intervalMinutes * 60_000;
    // One listing serves the due check and retention, unless a snapshot was taken in between.
    if (due && (await this.takeFor(job, store, newSnapshotId(job.jobId, this.now()))) !== undefined)
      records = await store.listSnapshots(job.jobId);
    const kept = await this.retain(job, store, records);
    await this.groomOplog(job, kept);
  }

  private async takeFor(
    job: SnapshotJob,
    store: SnapshotStore,
    snapshotId: string,
    requestId?: string,
  ): Promise<SnapshotRecord | undefined> {
    // `started` is announced once the snapshot holds its lock and fence and reports its first progress, so a
    // snapshot deferred because another holder is busy leaves nothing behind in job-state's catalog.
    let started: Promise<void> | undefined;
    const announce = () => {
      started ??= this.publish(
        recordlessEvent('started', job.jobId, snapshotId, job, this.now(), undefined, requestId),
      ).catch((err: unknown) => {
        this.deps.log({
          event: 'snapshot-started-unannounced',
          jobId: job.jobId,
          snapshotId,
          reason: String(err),
        });
      });
    };
    const taker = new SnapshotTaker({
      head: this.deps.head,
      fence: this.deps.fence,
      store,
      clock: this.clock,
    });
    try {
      // Inside the try: a job whose key cannot be loaded gets a failed snapshot that says why.
      const key = await this.deps.keyFor(job.store);
      const encoding: BlockEncoding =
        key === undefined ? { codec: DEFAULT_BLOCK_CODEC } : { codec: DEFAULT_BLOCK_CODEC, key };
      const record = await taker.take({
        jobId: job.jobId,
        syncId: job.syncId,
        snapshotId,
        owner: this.operationOwner(),
        encoding,
        ...(this.deps.timings === undefined ? {} : { timings: this.deps.timings }),
        onProgress: announce,
      });
      await started;
      this.deps.log({
        event: `snapshot-${record.state}`,
        jobId: job.jobId,
        snapshotId,
        logicalBytes: record.manifest.logicalBytes,
        storedBytes: record.manifest.storedBytes,
        ...(record.reason === undefined ? {} : { reason: record.reason }),
      });
      await this.publish(
        eventOf(record, record.state === 'complete' ? 'completed' : 'failed', this.now(), requestId),
      );
      return record;
    } catch (err) {
      const busy = err instanceof SnapshotUnavailableError || err instanceof StoreLockBusyError;
      this.deps.log({
        event: busy ? 'snapshot-deferred' : 'snapshot-error',
        jobId: job.jobId,
        snapshotId,
        reason: String(err),
      });
      // Busy (another holder has the lock, or the fence was not granted in time): a scheduled snapshot waits for
      // the next round; an on-demand one is thrown back to its caller to retry, nothing recorded.
      await started;
      if (busy && requestId === undefined) return undefined;
      if (busy) throw err;
      await this.publish(
        recordlessEvent('failed', job.jobId, snapshotId, job, this.now(), String(err), requestId),
      );
      // A failure a retry can fix (a store or the backup side unreachable) goes back to the caller to retry; any
      // other (a key that cannot be loaded, a head that cannot be read as a snapshot) is the snapshot's outcome,
      // recorded and announced: the command that asked for it is done, and the other jobs' commands go on.
      if ((this.deps.isRetriable ?? isRetriable)(err)) throw err;
      return undefined;
    }
  }

  /** Retention: expired records go (each an `expired` event), then grooming frees their blocks. */
  /** Applies the job's retention; returns the records it keeps. */
  private async retain(
    job: SnapshotJob,
    store: SnapshotStore,
    records: SnapshotRecord[],
  ): Promise<SnapshotRecord[]> {
    const decision = applyRetention(
      records.map((r) => ({
        snapshotId: r.manifest.snapshotId,
        takenAt: r.manifest.takenAt,
        state: r.state,
      })),
      job.schedule.retention,
      this.now(),
    );
    if (decision.expire.length === 0) return records;
    for (const { snapshotId, reason } of decision.expire) {
      const record = records.find((r) => r.manifest.snapshotId === snapshotId);
      await store.deleteSnapshot(job.jobId, snapshotId);
      if (record !== undefined) await this.publish({ ...eventOf(record, 'expired', this.now()), reason });
    }
    await this.groomQuietly(store, job.jobId);
    const expired = new Set(decision.expire.map((e) => e.snapshotId));
    return records.filter((r) => !expired.has(r.manifest.snapshotId));
  }

  /**
   * Grooms the current sync's stored oplog past the job's point-in-time window (`pointInTimeWindowHours` of its
   * schedule, `oplogGroomPoint`): slices ending at or
   * before the newest retained complete snapshot older than the window go; what a restore to any point of the window
   * replays stays. A failure is logged and retried next round (keeping slices longer is safe).
   */
  private async groomOplog(job: SnapshotJob, kept: readonly SnapshotRecord[]): Promise<void> {
    const oplog = this.deps.oplog;
    if (oplog === undefined) return;
    const complete = kept
      .filter((r) => r.state === 'complete' && r.manifest.syncId === job.syncId)
      .map((r) => ({
        opTime: r.manifest.opTime,
        opWallTime: r.manifest.opWallTime,
        syncId: r.manifest.syncId,
      }));
    const windowMs = job.schedule.pointInTimeWindowHours * 3_600_000;
    const through = oplogGroomPoint(complete, windowMs, this.now());
    if (through === undefined) return;
    try {
      const deleted = await oplog.deleteOplogThrough(job.jobId, job.syncId, through);
      if (deleted > 0) {
        this.deps.log({
          event: 'oplog-groomed',
          jobId: job.jobId,
          syncId: job.syncId,
          through,
          slices: deleted,
        });
      }
    } catch (err) {
      this.deps.log({ event: 'oplog-groom-failed', jobId: job.jobId, reason: String(err) });
    }
  }

  private async groomQuietly(store: SnapshotStore, jobId: string): Promise<void> {
    try {
      const report = await groom(store, { jobId, owner: this.operationOwner(), clock: this.clock });
      this.deps.log({ ...report, event: 'snapshot-groomed' });
    } catch (err) {
      // Another holder has the lock (a snapshot or a groom): the next round grooms.
      this.deps.log({ event: 'snapshot-groom-deferred', jobId, reason: String(err) });
    }
  }

  /** A lock and fence owner for one operation of this process (`SnapshotWorkerDeps.owner`). */
  private operationOwner(): string {
    return `${this.deps.owner}#${++this.operations}`;
  }

  private async publish(event: SnapshotEvent): Promise<void> {
    await this.deps.events.publish(event);
  }

  private now(): Date {
    return new Date(this.clock());
  }
}

/** The event of a snapshot as its record stands. */
function eventOf(
  record: SnapshotRecord,
  event: SnapshotEvent['event'],
  at: Date,
  requestId?: string,
): SnapshotEvent {
  const m: SnapshotManifest = record.manifest;
  return {
    event,
    jobId: m.jobId,
    snapshotId: m.snapshotId,
    syncId: m.syncId,
    store: m.store,
    opTime: m.opTime,
    ...(m.opWallTime === undefined ? {} : { opWallTime: m.opWallTime }),
    takenAt: m.takenAt,
    ...(m.completedAt === undefined || record.state !== 'complete' ? {} : { completedAt: m.completedAt }),
    logicalBytes: m.logicalBytes,
    storedBytes: m.storedBytes,
    namespaceCount: m.namespaces.length,
    documentCount: m.namespaces.reduce((n, ns) => n + ns.documentCount, 0),
    ...(m.checksum === undefined ? {} : { manifestChecksum: m.checksum }),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(requestId === undefined ? {} : { requestId }),
    at,
  };
}

/** An event about a snapshot with no record (yet, or any more): position unknown (0:0), sizes 0. */
function recordlessEvent(
  event: SnapshotEvent['event'],
  jobId: string,
  snapshotId: string,
  job: SnapshotJob | undefined,
  at: Date,
  reason: string | undefined,
  requestId: string | undefined,
): SnapshotEvent {
  return {
    event,
    jobId,
    snapshotId,
    syncId: job?.syncId ?? '',
    store: (job?.store ?? DEFAULT_SNAPSHOT_STORE).kind,
    opTime: MIN_OP_TIME,
    takenAt: at,
    logicalBytes: 0,
    storedBytes: 0,
    namespaceCount: 0,
    documentCount: 0,
    ...(reason === undefined ? {} : { reason }),
    ...(requestId === undefined ? {} : { requestId }),
    at,
  };
}
