/**
 * Alerts as job-state keeps them (docs/api.md, "Alerts"): gathers the facts of a job (its record, the newest stored
 * oplog position, the applied position, its snapshots and restores) or of the stages' consumer groups, evaluates
 * them ({@link jobAlertConditions}, {@link stageAlertConditions}, {@link alertChanges}), and stores what opens and
 * closes ({@link AlertStore}), then publishes the events.
 *
 * Delivery: an opening or closing is stored together with the event it owes (the entry's outbox), then published on
 * `tidemark.alerts`, then marked published. While Kafka is unreachable, or when job-state dies in between, the event
 * stays owed; {@link AlertService.flushUnpublished} (job-state's periodic round) publishes it later, in order (an
 * alert's OPEN before its CLOSED). An event may go out twice, never not at all; readers are idempotent by alert id
 * and state.
 *
 * Several job-state replicas may evaluate at once: an opening is an insert of the key's next generation (refused
 * when another replica stored it first), a closing a compare-and-set on the state.
 */
import { randomUUID } from 'node:crypto';
import {
  ALERT_CODES,
  compareOpTime,
  describeError,
  TidemarkError,
  type Alert,
  type OpTime,
} from '@tidemark/domain';
import { KeyedMutex } from '@tidemark/util';
import {
  alertChanges,
  ChangeClock,
  DEFAULT_ALERT_THRESHOLDS,
  jobAlertConditions,
  jobCloseReason,
  stageAlertConditions,
  stageCloseReason,
  stageSubject,
  type AlertCondition,
  type AlertThresholds,
  type JobAlertFacts,
  type OpenAlertKey,
  type StagePartitionFacts,
} from './alert-lifecycle';
import { alertEvent, type AlertEntry, type AlertListQuery, type AlertStore } from './alert-store';
import type { JobBackupData, JobRepository } from './ports';
import type { RestoreCatalog } from './restore-catalog';
import type { SnapshotCatalog } from './snapshot-catalog';

/** Publishes alert events on `tidemark.alerts`; resolves once Kafka acknowledged (`KafkaAlertPublisher`). */
export interface AlertEventPublisher {
  raise(alert: Alert): Promise<void>;
}

/** A stage's consumer group on one partition, as read from Kafka (`consumerLag` of `@tidemark/bus`). */
export type StagePartitionReading = Omit<StagePartitionFacts, 'committedSince'>;

export interface AlertServiceOptions {
  readonly store: AlertStore;
  readonly events: AlertEventPublisher;
  readonly jobs: Pick<JobRepository, 'get' | 'list'>;
  readonly backupData: Pick<JobBackupData, 'head' | 'latestStoredOplogTs'>;
  readonly snapshots: Pick<SnapshotCatalog, 'listForJob'>;
  readonly restores: Pick<RestoreCatalog, 'list'>;
  readonly thresholds?: AlertThresholds;
  readonly clock?: () => Date;
  readonly newAlertId?: () => string;
  /** Told when an event could not be published now (it stays owed). */
  readonly warn?: (line: string) => void;
}

/** Largest page of {@link AlertService.list}. */
export const MAX_ALERT_PAGE = 1_000;
const JOB_PAGE = 500;
/** How many of a job's restores are read to find its newest finished one. */
const RESTORES_READ = 100;

export class AlertService {
  private readonly thresholds: AlertThresholds;
  private readonly clock: () => Date;
  private readonly newAlertId: () => string;
  private readonly writes = new KeyedMutex();
  /** Since when each job's newest stored oplog position / each group's committed offset has been unchanged. */
  private readonly since = new ChangeClock();

  constructor(private readonly options: AlertServiceOptions) {
    this.thresholds = options.thresholds ?? DEFAULT_ALERT_THRESHOLDS;
    this.clock = options.clock ?? (() => new Date());
    this.newAlertId = options.newAlertId ?? (() => `al-${randomUUID()}`);
  }

  /** Evaluates one job's alerts now; resolves what opened and closed (0 and 0 for an unknown job). */
  /**
   * Evaluates one job's alerts now; resolves what opened and closed (0 and 0 for an unknown job). One evaluation of
   * a job at a time in this process. The open alerts are read before the facts, so an alert is only closed on facts
   * at least as new as those it opened on (another replica's opening included).
   */
  evaluateJob(jobId: string): Promise<{ opened: number; closed: number }> {
    return this.writes.run(`evaluate:${jobId}`, async () => {
      const open = await this.options.store.list({ jobId, state: 'open', limit: MAX_ALERT_PAGE });
      const facts = await this.jobFacts(jobId);
      if (facts === undefined) return { opened: 0, closed: 0 };
      const now = this.clock();
      const conditions = jobAlertConditions(facts.facts, this.thresholds, now, open);
      const changes = alertChanges(conditions, open, (a) => jobCloseReason(a, facts.facts, this.thresholds));
      return this.apply(changes, facts.project, now);
    });
  }

  /**
   * Evaluates every job, each on its own (one that fails does not hold up the others); throws (retriable) after
   * trying all when some failed. Resolves the totals.
   */
  async evaluateJobs(): Promise<{ jobs: number; opened: number; closed: number }> {
    const totals = { jobs: 0, opened: 0, closed: 0 };
    const failed: unknown[] = [];
    const seen = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await this.options.jobs.list({
        limit: JOB_PAGE,
        ...(after === undefined ? {} : { after }),
      });
      for (const job of page) {
        seen.add(`job:${job.id}`);
        try {
          const r = await this.evaluateJob(job.id);
          totals.jobs++;
          totals.opened += r.opened;
          totals.closed += r.closed;
        } catch (err) {
          failed.push(err);
        }
      }
      if (page.length < JOB_PAGE) break;
      after = page[page.length - 1]?.id;
    }
    this.since.retain('job:', seen);
    if (failed.length > 0) {
      throw new TidemarkError(
        `alerts of ${failed.length} job(s) not evaluated: ${describeError(failed[0])}`,
        {
          retriable: true,
          cause: failed[0],
        },
      );
    }
    return totals;
  }

  /**
   * Evaluates the stages' consumer groups (`STAGE_NOT_CONSUMING`) from one reading of their partitions (`read`,
   * called after the open alerts are read, for the same reason as in {@link evaluateJob}).
   */
  evaluateStages(
    read: () => Promise<readonly StagePartitionReading[]>,
  ): Promise<{ opened: number; closed: number }> {
    return this.writes.run('evaluate:stages', async () => {
      const open = (
        await this.options.store.list({ noJob: true, state: 'open', limit: MAX_ALERT_PAGE })
      ).filter((a) => a.code === ALERT_CODES.stageNotConsuming);
      const readings = await read();
      const now = this.clock();
      const keep = new Set<string>();
      const partitions: StagePartitionFacts[] = readings.map((r) => {
        const key = `stage:${stageSubject(r)}`;
        keep.add(key);
        return { ...r, committedSince: this.since.observe(key, String(r.committed), now) };
      });
      this.since.retain('stage:', keep);
      const conditions = stageAlertConditions(partitions, this.thresholds, now, open);
      const changes = alertChanges(conditions, open, (a) => stageCloseReason(a, partitions));
      return this.apply(changes, null, now);
    });
  }

  /** Alerts newest opened first (a project's list includes alerts about no job). */
  list(query: AlertListQuery): Promise<AlertEntry[]> {
    return this.options.store.list({ ...query, limit: Math.min(Math.max(query.limit, 1), MAX_ALERT_PAGE) });
  }

  /** Publishes every event still owed (oldest first per alert); resolves how many alerts were flushed. */
  async flushUnpublished(): Promise<number> {
    const owing = await this.options.store.listUnpublished(MAX_ALERT_PAGE);
    let flushed = 0;
    let firstError: unknown;
    for (const entry of owing) {
      try {
        await this.publishOwed(entry);
        flushed++;
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
    return flushed;
  }

  /** Deletes closed alerts closed more than `retentionMs` ago (that owe nothing). */
  pruneClosed(retentionMs: number): Promise<number> {
    return this.options.store.deleteClosedBefore(new Date(this.clock().getTime() - retentionMs));
  }

  private async apply(
    changes: { open: readonly AlertCondition[]; close: readonly { alert: OpenAlertKey; reason: string }[] },
    project: string | null,
    now: Date,
  ): Promise<{ opened: number; closed: number }> {
    let opened = 0;
    let closed = 0;
    for (const { alert, reason } of changes.close) {
      const entry = await this.writes.run(keyOf(alert), () =>
        this.options.store.close(alert.alertId, now, reason),
      );
      if (entry === undefined) continue;
      closed++;
      await this.publishOrWarn(entry);
    }
    for (const condition of changes.open) {
      const entry = await this.writes.run(keyOf(condition), () => this.open(condition, project, now));
      if (entry === undefined) continue;
      opened++;
      await this.publishOrWarn(entry);
    }
    return { opened, closed };
  }

  /** Stores the key's next generation, open; undefined when it is open already or another replica opened it. */
  private async open(
    condition: AlertCondition,
    project: string | null,
    now: Date,
  ): Promise<AlertEntry | undefined> {
    const latest = await this.options.store.latest(condition.jobId, condition.code, condition.subject);
    if (latest?.state === 'open') return undefined;
    // A raised alert opens under the stage's id, unless that id already named an earlier opening.
    const alertId =
      condition.alertId !== undefined && (await this.options.store.get(condition.alertId)) === undefined
        ? condition.alertId
        : this.newAlertId();
    const entry: AlertEntry = {
      alertId,
      jobId: condition.jobId,
      project,
      code: condition.code,
      subject: condition.subject,
      generation: (latest?.generation ?? 0) + 1,
      severity: condition.severity,
      message: condition.message,
      context: { ...condition.context },
      state: 'open',
      openedAt: now,
      closedAt: undefined,
      closeReason: undefined,
      unpublished: ['open'],
    };
    return (await this.options.store.insertOpen(entry)) ? entry : undefined;
  }

  private async publishOrWarn(entry: AlertEntry): Promise<void> {
    try {
      await this.publishOwed(entry);
    } catch (err) {
      this.options.warn?.(
        `alert ${entry.alertId} (${entry.code}) is stored ${entry.state}, but its event could not be published ` +
          `yet; it stays owed (${describeError(err)})`,
      );
    }
  }

  /**
   * Publishes what the alert owes now, oldest first, then marks it published. One publication per alert at a time
   * in this process, re-reading what is owed under the lock, so the event-driven evaluation and the periodic flush
   * never send the same event twice (across replicas an event may still go out twice).
   */
  private publishOwed(entry: AlertEntry): Promise<void> {
    return this.writes.run(`publish:${entry.alertId}`, async () => {
      const current = await this.options.store.get(entry.alertId);
      const owed = current?.unpublished ?? [];
      if (current === undefined || owed.length === 0) return;
      for (const state of owed) await this.options.events.raise(alertEvent(current, state));
      await this.options.store.markPublished(entry.alertId, owed);
    });
  }

  private async jobFacts(jobId: string): Promise<{ facts: JobAlertFacts; project: string } | undefined> {
    const job = await this.options.jobs.get(jobId);
    if (job === undefined) return undefined;
    const now = this.clock();
    let stored: OpTime | undefined;
    let applied: OpTime | undefined;
    if (job.syncId !== undefined && job.state !== 'inactive') {
      const [latest, head] = await Promise.all([
        this.options.backupData.latestStoredOplogTs(job.id, job.syncId),
        this.options.backupData.head(job.id, job.syncId),
      ]);
      stored = latest;
      applied = head?.appliedTs;
    }
    const [snapshots, restores] = await Promise.all([
      this.options.snapshots.listForJob(job.id),
      this.options.restores.list({ jobId: job.id, limit: RESTORES_READ }),
    ]);
    const newestSource = [job.sourceTs, stored]
      .filter((t): t is OpTime => t !== undefined)
      .sort((a, b) => compareOpTime(b, a))[0];
    const lagSeconds =
      applied === undefined || newestSource === undefined ? null : Math.max(0, newestSource.t - applied.t);
    const storedKey = `${job.syncId ?? '-'}@${stored === undefined ? 'none' : `${stored.t}:${stored.i}`}`;
    return {
      project: job.project,
      facts: {
        job,
        latestStoredOplogTs: stored,
        latestStoredSince:
          job.syncId === undefined ? undefined : this.since.observe(`job:${job.id}`, storedKey, now),
        lagSeconds,
        snapshots,
        restores,
      },
    };
  }
}

function keyOf(a: { jobId: string | null; code: string; subject: string }): string {
  return `alert:${a.jobId ?? '-'}\u0000${a.code}\u0000${a.subject}`;
}
