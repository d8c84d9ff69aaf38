/**
 * Backup jobs: creating them, the user's actions through the state machine, folding what the pipeline reports,
 * and the views the API serves. Plain class over ports ({@link JobRepository}, {@link CommandPublisher},
 * {@link JobBackupData}); the app wires the adapters in.
 *
 * Every change of a job is a compare-and-set on its revision (several requests, and several job-state replicas,
 * may change one job at once): read, compute the new job with a pure function, write if unchanged, else start
 * over. What the pipeline must be told goes into the job's outbox IN THE SAME WRITE, and is sent afterwards
 * ({@link JobService.flushEffects}): a crash between the write and the send leaves the message in the outbox, and
 * the next flush (the next action on the job, the background flusher, a start-up) sends it. Consumers are
 * idempotent by command id, so a message sent twice is harmless; a message is never lost. Retained backups marked
 * for deletion (terminate, an earlier sync after a newer one completed) are deleted by the same flush, after the
 * outbox is empty: the agent is told to stop before its data goes.
 */
import {
  describeError,
  isSnapshotId,
  newSnapshotId,
  STATE_POLICY,
  syncIdOf,
  TidemarkError,
  type Alert,
  type OpTime,
  type SnapshotEvent,
} from '@tidemark/domain';
import { KeyedMutex } from '@tidemark/util';
import { foldAlert } from './alert-fold';
import { newJobRecord, type CreateJobInput } from './create-job-input';
import { applyJobSettings, type JobSettingsChange } from './job-settings';
import { applyUserAction, type UserAction } from './job-actions';
import {
  JobConflictError,
  JobEffectsPendingError,
  JobNotFoundError,
  SnapshotNotAllowedError,
  SnapshotNotFoundError,
} from './job-errors';
import type { OutboxMessage } from './messages';
import {
  foldSnapshotEvent,
  requestedEntry,
  type SnapshotCatalog,
  type SnapshotEntry,
} from './snapshot-catalog';
import { RANDOM_IDS, wellFormedJobIds, type IdSource } from './job-id';
import { retainedView, type RetainedSync, type RetainedView } from './retained';
import { foldCapturePosition, type CaptureReportEntry } from './capture-report';
import { hasPendingEffects, type JobRecord } from './job-record';
import type { PhaseReport } from '@tidemark/domain';
import { foldPhaseReport, type FoldResult } from './phase-fold';
import type { CommandPublisher, JobBackupData, JobRepository } from './ports';
import { agentJob, jobResume, jobStatus, type AgentJob, type JobResume, type JobStatus } from './views';

export interface JobServiceOptions {
  readonly jobs: JobRepository;
  readonly publisher: CommandPublisher;
  readonly backupData: JobBackupData;
  /** The backup-side MongoDB URI, shown (without credentials) as the head location. */
  readonly backupUri: string;
  readonly ids?: IdSource;
  readonly clock?: () => Date;
  /** Compare-and-set attempts before {@link JobConflictError}; default 8. */
  readonly maxAttempts?: number;
  /** job-state's catalog of snapshots, folded from the snapshotter's events. */
  readonly snapshots: SnapshotCatalog;
}

/** What folding an event did: `unknown-job` and `stale-sync` events are ignored (and committed). */
export type FoldOutcome = 'applied' | 'unchanged' | 'stale-sync' | 'unknown-job';

/** Largest page of {@link JobService.listJobs}. */
export const MAX_PAGE = 1_000;
const AGENT_PAGE = 500;
const JOB_ID_ATTEMPTS = 10;

export class JobService {
  private readonly jobs: JobRepository;
  private readonly publisher: CommandPublisher;
  private readonly backupData: JobBackupData;
  private readonly backupUri: string;
  private readonly ids: IdSource;
  private readonly clock: () => Date;
  private readonly maxAttempts: number;
  /** One read-change-write of a job at a time in this process (see {@link update}). */
  private readonly writes = new KeyedMutex();
  private readonly snapshots: SnapshotCatalog;

  constructor(options: JobServiceOptions) {
    this.jobs = wellFormedJobIds(options.jobs);
    this.publisher = options.publisher;
    this.backupData = options.backupData;
    this.backupUri = options.backupUri;
    this.ids = options.ids ?? RANDOM_IDS;
    this.clock = options.clock ?? (() => new Date());
    this.maxAttempts = options.maxAttempts ?? 8;
    this.snapshots = options.snapshots;
  }

  /** A new job, state `inactive`. Throws `JobValidationError` for an invalid input. */
  async createJob(input: CreateJobInput): Promise<JobRecord> {
    for (let attempt = 1; attempt <= JOB_ID_ATTEMPTS; attempt++) {
      const job = newJobRecord(input, this.ids.jobId(), this.clock());
      if (await this.jobs.insert(job)) return job;
    }
    throw new TidemarkError(`no free job id after ${JOB_ID_ATTEMPTS} random draws`, { retriable: true });
  }

  /** Throws {@link JobNotFoundError}. */
  async getJob(id: string): Promise<JobRecord> {
    const job = await this.jobs.get(id);
    if (job === undefined) throw new JobNotFoundError(id);
    return job;
  }

  /** Jobs ordered by id; only those of `projects` when given (an API key's projects). */
  async listJobs(limit: number, after?: string, projects?: readonly string[]): Promise<JobRecord[]> {
    return this.jobs.list({
      limit: Math.min(Math.max(limit, 1), MAX_PAGE),
      after,
      ...(projects === undefined ? {} : { projects }),
    });
  }

  /** How many jobs `project` holds, counting up to `MAX_PAGE` (a project with jobs cannot be deleted). */
  async countJobsInProject(project: string): Promise<number> {
    return (await this.jobs.list({ limit: MAX_PAGE, projects: [project] })).length;
  }

  start(id: string): Promise<JobRecord> {
    return this.act(id, 'start');
  }
  stop(id: string): Promise<JobRecord> {
    return this.act(id, 'stop');
  }
  restart(id: string): Promise<JobRecord> {
    return this.act(id, 'restart');
  }
  resync(id: string, reason?: string): Promise<JobRecord> {
    return this.act(id, 'resync', reason);
  }
  /** Deletes every retained backup of the job (head databases, oplog-store slices) once TERMINATE is sent. */
  terminate(id: string): Promise<JobRecord> {
    return this.act(id, 'terminate');
  }

  /**
   * Applies a user action: first sends what the job still owes (so commands stay in order), then changes the
   * job (throws `IllegalTransitionError` when not allowed), then sends the new commands. When sending fails after
   * the change was stored, throws {@link JobEffectsPendingError} (the messages stay in the outbox).
   */
  async act(id: string, action: UserAction, reason?: string): Promise<JobRecord> {
    await this.flushEffects(id);
    const changed = await this.mutate(id, (job) =>
      applyUserAction(job, action, {
        now: this.clock(),
        messageId: () => this.ids.messageId(),
        ...(reason === undefined ? {} : { reason }),
      }),
    );
    try {
      return (await this.flushEffects(id)) ?? changed;
    } catch (err) {
      throw new JobEffectsPendingError(id, changed.state, err);
    }
  }

  /**
   * Changes the job's settings (the read limit), in any state; resolves the job as stored. Sends nothing: the agent
   * polls `GET /api/v1/agent/jobs` and applies the new limit to the running sync. Throws {@link JobNotFoundError}.
   */
  async changeSettings(id: string, change: JobSettingsChange): Promise<JobRecord> {
    const job = await this.update(id, (j) => applyJobSettings(j, change));
    if (job === undefined) throw new JobNotFoundError(id);
    return job;
  }

  /** Folds a `PhaseChanged` report; resolves once the change (and the effects it causes) is durable. */
  foldPhase(report: PhaseReport): Promise<FoldOutcome> {
    return this.fold(report.jobId, (job) => foldPhaseReport(job, report));
  }

  /**
   * The agent's capture report: each job's newest source position, kept for its current sync
   * (`foldCapturePosition`). Resolves how many jobs changed; unknown jobs and other syncs are skipped.
   */
  async recordCapture(entries: readonly CaptureReportEntry[]): Promise<number> {
    let changed = 0;
    for (const entry of entries) {
      if ((await this.fold(entry.jobId, (job) => foldCapturePosition(job, entry))) === 'applied') changed++;
    }
    return changed;
  }

  /** Folds an `AlertRaised` event; alerts about no job are ignored (`unknown-job`). */
  foldAlert(alert: Alert): Promise<FoldOutcome> {
    if (alert.jobId === null) return Promise.resolve('unknown-job');
    return this.fold(alert.jobId, (job) => foldAlert(job, alert));
  }

  /**
   * Asks the snapshotter for a snapshot now: only a job whose state creates snapshots (`active`) may
   * (`SnapshotNotAllowedError`, 409, otherwise). Records the snapshot `requested` in the catalog and sends
   * `TAKE_SNAPSHOT` (`snapshotId`, `requestId`, `syncId`) through the job's outbox. Resolves the entry.
   */
  async requestSnapshot(jobId: string): Promise<SnapshotEntry> {
    const now = this.clock();
    const snapshotId = newSnapshotId(jobId, now);
    let store: SnapshotEntry['store'] = 'blockstore';
    await this.flushEffects(jobId);
    await this.mutate(jobId, (job) => {
      if (!STATE_POLICY[job.state].createSnapshots || job.syncId === undefined) {
        throw new SnapshotNotAllowedError(job.id, job.state);
      }
      store = job.snapshotStore.kind;
      return {
        ...job,
        outbox: [
          ...job.outbox,
          this.snapshotCommand(job.id, 'TAKE_SNAPSHOT', {
            snapshotId,
            requestId: snapshotId,
            syncId: job.syncId,
          }),
        ],
      };
    });
    // Created only if absent: the command is already stored, so the flusher may have sent it and the snapshot's
    // events been folded before this line; a `requested` entry must never overwrite them.
    const entry = await this.writes.run(`snapshot:${snapshotId}`, async () => {
      const folded = await this.snapshots.get(snapshotId);
      if (folded !== undefined) return folded;
      const requested = requestedEntry(jobId, snapshotId, store, now);
      await this.snapshots.put(requested);
      return requested;
    });
    await this.sendOwed(jobId);
    return entry;
  }

  /** Asks the snapshotter to verify a snapshot; resolves the request id its `verified` event will carry. */
  requestVerify(snapshotId: string): Promise<string> {
    return this.requestOnSnapshot(snapshotId, 'VERIFY_SNAPSHOT');
  }

  /** Asks the snapshotter to delete a snapshot (its blocks go by grooming); resolves the request id. */
  requestDelete(snapshotId: string): Promise<string> {
    return this.requestOnSnapshot(snapshotId, 'DELETE_SNAPSHOT');
  }

  /** Folds a snapshot event into the catalog; events about a snapshot of an unknown job are ignored. */
  async foldSnapshot(event: SnapshotEvent): Promise<FoldOutcome> {
    if ((await this.jobs.get(event.jobId)) === undefined) return 'unknown-job';
    return this.writes.run(`snapshot:${event.snapshotId}`, async () => {
      const next = foldSnapshotEvent(await this.snapshots.get(event.snapshotId), event, this.clock());
      if (next === undefined) return 'unchanged';
      await this.snapshots.put(next);
      return 'applied';
    });
  }

  /**
   * What the job retains, and so what `terminate` deletes: its snapshots, the slices of its syncs not deleted yet
   * (`deletedThrough < n <= syncNo`) and their head databases. Throws `JobNotFoundError`.
   */
  async retained(jobId: string): Promise<RetainedView> {
    const job = await this.getJob(jobId);
    const syncs: RetainedSync[] = [];
    for (let n = job.deletedThrough + 1; n <= job.syncNo; n++) {
      const syncId = syncIdOf(jobId, n);
      const [slices, head] = await Promise.all([
        this.backupData.storedSlices(jobId, syncId),
        this.backupData.head(jobId, syncId),
      ]);
      const headDatabases = (head?.namespaces ?? []).map((ns) => ns.headNs.slice(0, ns.headNs.indexOf('.')));
      syncs.push({ syncId, slices, headDatabases });
    }
    return retainedView(jobId, await this.snapshots.listForJob(jobId), syncs);
  }

  /** The job's snapshots, newest first (throws `JobNotFoundError` for an unknown job). */
  async listSnapshots(jobId: string): Promise<SnapshotEntry[]> {
    await this.getJob(jobId);
    return this.snapshots.listForJob(jobId);
  }

  /** One snapshot; throws `SnapshotNotFoundError`. */
  async getSnapshot(snapshotId: string): Promise<SnapshotEntry> {
    const entry = isSnapshotId(snapshotId) ? await this.snapshots.get(snapshotId) : undefined;
    if (entry === undefined) throw new SnapshotNotFoundError(snapshotId);
    return entry;
  }

  private async requestOnSnapshot(
    snapshotId: string,
    action: 'VERIFY_SNAPSHOT' | 'DELETE_SNAPSHOT',
  ): Promise<string> {
    const entry = await this.getSnapshot(snapshotId);
    if (entry.state === 'deleted' || entry.state === 'expired') {
      throw new SnapshotNotAllowedError(entry.jobId, entry.state, `snapshot ${snapshotId} is ${entry.state}`);
    }
    const requestId = this.ids.messageId();
    await this.flushEffects(entry.jobId);
    await this.mutate(entry.jobId, (job) => ({
      ...job,
      outbox: [...job.outbox, this.snapshotCommand(job.id, action, { snapshotId, requestId })],
    }));
    await this.sendOwed(entry.jobId);
    return requestId;
  }

  private snapshotCommand(
    jobId: string,
    action: 'TAKE_SNAPSHOT' | 'VERIFY_SNAPSHOT' | 'DELETE_SNAPSHOT',
    params: Record<string, string>,
  ): OutboxMessage {
    const id = this.ids.messageId();
    return { id, kind: 'command', command: { commandId: id, jobId, action, issuedAt: this.clock(), params } };
  }

  /** Sends the outbox now; when Kafka fails the request is stored and sent later (`JobEffectsPendingError`). */
  private async sendOwed(jobId: string): Promise<void> {
    try {
      await this.flushEffects(jobId);
    } catch (err) {
      const job = await this.jobs.get(jobId);
      throw new JobEffectsPendingError(jobId, job?.state ?? 'inactive', err);
    }
  }

  async status(id: string): Promise<JobStatus> {
    const job = await this.getJob(id);
    if (job.syncId === undefined) {
      return jobStatus(job, {
        head: undefined,
        latestStoredOplogTs: undefined,
        entriesAfterApplied: undefined,
        backupUri: this.backupUri,
      });
    }
    const [head, latestStoredOplogTs, oldestStoredOplogTs, snapshots] = await Promise.all([
      this.backupData.head(job.id, job.syncId),
      this.backupData.latestStoredOplogTs(job.id, job.syncId),
      this.backupData.oldestStoredOplogTs(job.id, job.syncId),
      this.snapshots.listForJob(job.id),
    ]);
    const applied: OpTime | undefined = head?.appliedTs;
    const entriesAfterApplied =
      applied === undefined
        ? undefined
        : await this.backupData.countOplogEntriesAfter(job.id, job.syncId, applied);
    return jobStatus(job, {
      head,
      latestStoredOplogTs,
      ...(oldestStoredOplogTs === undefined ? {} : { oldestStoredOplogTs }),
      entriesAfterApplied,
      backupUri: this.backupUri,
      snapshots,
    });
  }

  /** Where the agent resumes the job's oplog tail: the newest stored oplog position of the current sync. */
  async resume(id: string): Promise<JobResume> {
    const job = await this.getJob(id);
    const resumeTs =
      job.syncId === undefined ? undefined : await this.backupData.latestStoredOplogTs(job.id, job.syncId);
    return jobResume(job, resumeTs);
  }

  /** Every job the agent must serve: state `initial-sync` or `active`. */
  async agentJobs(): Promise<AgentJob[]> {
    const out: AgentJob[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.jobs.list({ limit: AGENT_PAGE, after, states: ['initial-sync', 'active'] });
      out.push(...page.map(agentJob));
      if (page.length < AGENT_PAGE) return out;
      after = page[page.length - 1]?.id;
    }
  }

  /**
   * Sends the job's outbox in order (each message removed once acknowledged), then deletes the retained backups
   * marked for deletion. Resolves the job as stored afterwards, or undefined when it does not exist. Throws when
   * Kafka or the backup side fails; what is left stays pending.
   */
  async flushEffects(id: string): Promise<JobRecord | undefined> {
    let job = await this.jobs.get(id);
    while (job !== undefined && job.outbox.length > 0) {
      const [message] = job.outbox;
      if (message === undefined) break;
      if (message.kind === 'command') await this.publisher.publishCommand(message.command);
      else await this.publisher.publishPhase(message.report);
      job = await this.update(id, (j) =>
        j.outbox.some((m) => m.id === message.id)
          ? { ...j, outbox: j.outbox.filter((m) => m.id !== message.id) }
          : undefined,
      );
    }
    if (job !== undefined && job.pendingDeletionThrough > job.deletedThrough) {
      const through = job.pendingDeletionThrough;
      for (let syncNo = job.deletedThrough + 1; syncNo <= through; syncNo++) {
        await this.backupData.deleteSync(job.id, syncNo);
      }
      // Terminated: the snapshots go too (the snapshotter deletes them from the store on TERMINATE, sent first).
      if (job.state === 'inactive') await this.snapshots.deleteForJob(job.id);
      job = await this.update(id, (j) =>
        j.deletedThrough >= through ? undefined : { ...j, deletedThrough: through },
      );
    }
    return job;
  }

  /**
   * Flushes every job that owes effects (at start-up and periodically), each on its own: one job that cannot be
   * flushed does not hold up the others. Resolves how many jobs were flushed; throws (retriable) after trying all
   * when some could not be.
   */
  async flushAllEffects(limit = MAX_PAGE): Promise<number> {
    const ids = await this.jobs.listWithPendingEffects(limit);
    const failed: unknown[] = [];
    for (const id of ids) {
      try {
        await this.flushEffects(id);
      } catch (err) {
        failed.push(err);
      }
    }
    if (failed.length > 0) {
      throw new TidemarkError(
        `${failed.length} of ${ids.length} jobs still owe effects: ${describeError(failed[0])}`,
        {
          retriable: true,
          cause: failed[0],
        },
      );
    }
    return ids.length;
  }

  private async fold(jobId: string, apply: (job: JobRecord) => FoldResult): Promise<FoldOutcome> {
    let outcome: FoldOutcome = 'unknown-job';
    let effects = false;
    const done = await this.update(jobId, (job) => {
      const result = apply(job);
      outcome = result.outcome;
      effects = hasPendingEffects(job);
      return result.outcome === 'applied' ? result.job : undefined;
    });
    if (done !== undefined && (effects || hasPendingEffects(done))) await this.flushEffects(jobId);
    return outcome;
  }

  /** Like {@link update}, but the job must exist. */
  private async mutate(id: string, change: (job: JobRecord) => JobRecord): Promise<JobRecord> {
    const job = await this.update(id, change);
    if (job === undefined) throw new JobNotFoundError(id);
    return job;
  }

  /**
   * Compare-and-set loop: `change` returns the new job, or undefined for "nothing to do". Resolves the job as
   * stored (changed or not), or undefined when it does not exist.
   *
   * Each read-change-write of a job also runs alone in this process (a {@link KeyedMutex} per job): the
   * compare-and-set on `revision` is atomic on MongoDB, but FerretDB (the stand-in the tests run on) evaluates
   * a conditional replace's filter and writes in separate steps, so two concurrent writers of one revision could
   * both "win" and one change be lost (an API action and a phase fold, seen as a lost resync and a stop whose
   * effects never cleared). Across job-state replicas the compare-and-set is what protects the job.
   */
  private update(
    id: string,
    change: (job: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined> {
    return this.writes.run(id, async () => {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const job = await this.jobs.get(id);
        if (job === undefined) return undefined;
        const next = change(job);
        if (next === undefined) return job;
        const stored: JobRecord = { ...next, revision: job.revision + 1, updatedAt: this.clock() };
        if (await this.jobs.replace(stored, job.revision)) return stored;
      }
      throw new JobConflictError(id, this.maxAttempts);
    });
  }
}
