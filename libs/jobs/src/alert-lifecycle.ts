/**
 * The alert lifecycle (docs/api.md, "Alerts"): pure evaluation, no I/O. An alert is identified by (job, code,
 * subject); it opens once when its condition starts to hold, stays open while it holds, and closes (with the time
 * and why) when it no longer holds. When the condition comes back it opens again as a new alert (a new id).
 *
 * {@link jobAlertConditions} and {@link stageAlertConditions} say which conditions hold, given the facts job-state
 * gathered; {@link alertChanges} compares them with the alerts open now and says which to open and which to close.
 *
 * | code                    | subject          | holds while                                                                      |
 * | ----------------------- | ---------------- | -------------------------------------------------------------------------------- |
 * | raised codes            | sync id          | a stage raised it about the job's current sync (closes: a new sync, terminate)   |
 * | `OPLOG_BEHIND`          | sync id          | the source wrote past the newest stored oplog slice, and that slice has stayed    |
 * |                         |                  | the newest for `oplogBehindMs` (active or initial-sync jobs)                       |
 * | `LAG_HIGH`              | sync id          | an active job's lag is above `lagHighSeconds`                                     |
 * | `SNAPSHOT_FAILED`       | job id           | the job's newest finished snapshot failed (closes: a later one completes)        |
 * | `VERIFY_FAILED`         | snapshot id      | the snapshot's newest verify found it damaged (closes: intact, or it is gone)    |
 * | `RESTORE_FAILED`        | job id           | the job's newest finished restore failed (closes: a later one completes)         |
 * | `STAGE_NOT_CONSUMING`   | group/topic/part | a stage's group has messages to read and its committed offset stayed for         |
 * |                         |                  | `stageIdleMs` (no job: jobId null)                                               |
 *
 * Nothing holds for an `inactive` (terminated) job: its alerts close.
 */
import {
  ALERT_CODES,
  compareOpTime,
  formatOpTime,
  type AlertSeverity,
  type JobState,
  type OpTime,
} from '@tidemark/domain';
import type { JobAlert } from './job-record';
import type { RestoreEntry } from './restore-catalog';
import type { SnapshotEntry } from './snapshot-catalog';

/** Per-deployment thresholds (`TIDEMARK_ALERT_*`, docs/services.md). */
export interface AlertThresholds {
  /** `OPLOG_BEHIND`: how long the newest stored oplog slice may stay the newest while the source writes. */
  readonly oplogBehindMs: number;
  /** `LAG_HIGH`: lag above this many seconds. */
  readonly lagHighSeconds: number;
  /** `STAGE_NOT_CONSUMING`: how long a group with messages to read may commit nothing. */
  readonly stageIdleMs: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = Object.freeze({
  oplogBehindMs: 10 * 60_000,
  lagHighSeconds: 5 * 60,
  stageIdleMs: 5 * 60_000,
});

/** The codes stages raise (`AlertRaised` with no state); job-state keeps them open for the sync they are about. */
export const RAISED_ALERT_CODES: ReadonlySet<string> = new Set([
  ALERT_CODES.resyncRequired,
  ALERT_CODES.initialSyncFailed,
  ALERT_CODES.tailFailed,
  ALERT_CODES.commandFailed,
  ALERT_CODES.resumePositionUnknown,
  ALERT_CODES.sliceRejected,
  ALERT_CODES.applyFailed,
]);

/** A condition that holds now. */
export interface AlertCondition {
  readonly jobId: string | null;
  readonly code: string;
  readonly subject: string;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly context: Readonly<Record<string, string>>;
  /** The id the alert opens with when it opens now (a raised alert keeps the stage's id); else a new one. */
  readonly alertId?: string;
}

/** An alert open now, as far as the evaluation needs it. */
export interface OpenAlertKey {
  readonly alertId: string;
  readonly jobId: string | null;
  readonly code: string;
  readonly subject: string;
  /** The context it opened with (what was observed then), when known. */
  readonly context?: Readonly<Record<string, string>>;
}

/** What job-state knows about one job when it evaluates its alerts. */
export interface JobAlertFacts {
  readonly job: {
    readonly id: string;
    readonly state: JobState;
    readonly syncId: string | undefined;
    /** The alerts stages raised about the current sync (the job's `alerts`). */
    readonly alerts: readonly JobAlert[];
    /** The source's newest oplog position as the stages (the agent) reported it. */
    readonly sourceTs: OpTime | undefined;
  };
  /** The newest stored oplog slice's `lastTs` of the current sync. */
  readonly latestStoredOplogTs: OpTime | undefined;
  /** Since when {@link latestStoredOplogTs} has been the newest (as observed; `ChangeClock`). */
  readonly latestStoredSince: Date | undefined;
  /** The lag in seconds as in the job status (`lag.seconds`), null when unknown. */
  readonly lagSeconds: number | null;
  /** The job's snapshots, any order. */
  readonly snapshots: readonly SnapshotEntry[];
  /** The job's restores, any order. */
  readonly restores: readonly RestoreEntry[];
}

/** One partition a stage's consumer group reads. */
export interface StagePartitionFacts {
  /** The stage (app) name, e.g. `head-builder`. */
  readonly stage: string;
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** Messages the group has still to read. */
  readonly lag: bigint;
  readonly committed: bigint | null;
  /** Since when the committed offset has been what it is (as observed; `ChangeClock`). */
  readonly committedSince: Date;
}

/**
 * The conditions that hold for one job now. `open` are the job's alerts open now: a raised alert stays open for its
 * sync even when its raise is no longer among the job's newest alerts (the job keeps 20).
 */
export function jobAlertConditions(
  facts: JobAlertFacts,
  thresholds: AlertThresholds,
  now: Date,
  open: readonly OpenAlertKey[] = [],
): AlertCondition[] {
  const { job } = facts;
  if (job.state === 'inactive') return [];
  const out: AlertCondition[] = [];
  const jobId = job.id;
  const syncId = job.syncId;
  if (syncId !== undefined) {
    for (const a of job.alerts) {
      if (!RAISED_ALERT_CODES.has(a.code) || a.syncId !== syncId) continue;
      if (out.some((c) => c.code === a.code)) continue; // the oldest raise of a code opens it
      out.push({
        jobId,
        code: a.code,
        subject: syncId,
        severity: a.severity,
        message: a.message,
        context: { ...a.context, syncId },
        alertId: a.alertId,
      });
    }
    for (const a of open) {
      if (!RAISED_ALERT_CODES.has(a.code) || a.subject !== syncId) continue;
      if (out.some((c) => c.code === a.code)) continue;
      out.push({ jobId, code: a.code, subject: syncId, severity: 'critical', message: '', context: {} });
    }
    const behind = oplogBehind(facts, thresholds, now, open);
    if (behind !== undefined) out.push(behind);
    if (job.state === 'active' && facts.lagSeconds !== null && facts.lagSeconds > thresholds.lagHighSeconds) {
      out.push({
        jobId,
        code: ALERT_CODES.lagHigh,
        subject: syncId,
        severity: 'warning',
        message:
          `job ${jobId} lags ${facts.lagSeconds} s behind its source ` +
          `(threshold ${thresholds.lagHighSeconds} s)`,
        context: {
          syncId,
          lagSeconds: String(facts.lagSeconds),
          threshold: String(thresholds.lagHighSeconds),
        },
      });
    }
  }
  const failedSnapshot = newestFinished(facts.snapshots, snapshotFinishedAt);
  if (failedSnapshot !== undefined && failedSnapshot.state === 'failed') {
    out.push({
      jobId,
      code: ALERT_CODES.snapshotFailed,
      subject: jobId,
      severity: 'critical',
      message: `snapshot ${failedSnapshot.snapshotId} failed: ${failedSnapshot.reason ?? 'no reason given'}`,
      context: { snapshotId: failedSnapshot.snapshotId },
    });
  }
  for (const s of facts.snapshots) {
    if (s.lastVerify === undefined || s.lastVerify.ok || s.state === 'expired' || s.state === 'deleted')
      continue;
    out.push({
      jobId,
      code: ALERT_CODES.verifyFailed,
      subject: s.snapshotId,
      severity: 'critical',
      message:
        `snapshot ${s.snapshotId} is damaged: ${s.lastVerify.damagedBlocks} damaged block(s)` +
        `${s.lastVerify.reason === undefined ? '' : ` (${s.lastVerify.reason})`}`,
      context: {
        snapshotId: s.snapshotId,
        damagedBlocks: String(s.lastVerify.damagedBlocks),
        verifiedAt: s.lastVerify.at.toISOString(),
      },
    });
  }
  const restore = newestFinished(facts.restores, (r) =>
    r.state === 'complete' || r.state === 'failed' ? r.endedAt : undefined,
  );
  if (restore !== undefined && restore.state === 'failed') {
    out.push({
      jobId,
      code: ALERT_CODES.restoreFailed,
      subject: jobId,
      severity: 'critical',
      message: `restore ${restore.restoreId} failed: ${restore.reason ?? 'no reason given'}`,
      context: { restoreId: restore.restoreId },
    });
  }
  return out;
}

/**
 * `OPLOG_BEHIND`. Opens once the newest stored position stayed for the window (as this process observed it); an open
 * alert keeps holding while the newest stored position is still the one it opened at, so a replica that started
 * observing later (its window not over yet) does not close what another replica opened.
 */
function oplogBehind(
  facts: JobAlertFacts,
  thresholds: AlertThresholds,
  now: Date,
  open: readonly OpenAlertKey[],
): AlertCondition | undefined {
  const { job, latestStoredOplogTs: stored, latestStoredSince: since } = facts;
  if (job.state !== 'active' && job.state !== 'initial-sync') return undefined;
  if (job.syncId === undefined || job.sourceTs === undefined || since === undefined) return undefined;
  if (stored !== undefined && compareOpTime(job.sourceTs, stored) <= 0) return undefined;
  const quietMs = now.getTime() - since.getTime();
  const storedText = stored === undefined ? 'none' : formatOpTime(stored);
  const stillStuck = open.some(
    (a) =>
      a.code === ALERT_CODES.oplogBehind &&
      a.subject === job.syncId &&
      a.context?.['latestStoredTs'] === storedText,
  );
  if (quietMs < thresholds.oplogBehindMs && !stillStuck) return undefined;
  return {
    jobId: job.id,
    code: ALERT_CODES.oplogBehind,
    subject: job.syncId,
    severity: 'critical',
    message:
      `oplog is behind: no oplog slice stored for job ${job.id} since ${since.toISOString()} ` +
      `(${Math.round(quietMs / 1000)} s; newest stored ${storedText}) while the source wrote up to ` +
      formatOpTime(job.sourceTs),
    context: {
      syncId: job.syncId,
      latestStoredTs: storedText,
      sourceTs: formatOpTime(job.sourceTs),
      since: since.toISOString(),
    },
  };
}

/** The conditions that hold for the stages' consumer groups now (alerts about no job). */
export function stageAlertConditions(
  partitions: readonly StagePartitionFacts[],
  thresholds: AlertThresholds,
  now: Date,
  open: readonly OpenAlertKey[] = [],
): AlertCondition[] {
  return partitions.flatMap((p) => {
    const idleMs = now.getTime() - p.committedSince.getTime();
    const committed = p.committed === null ? 'none' : String(p.committed);
    // An open alert keeps holding while the group's committed offset is the one it opened at (see oplogBehind).
    const stillIdle = open.some(
      (a) => a.subject === stageSubject(p) && a.context?.['committed'] === committed,
    );
    if (p.lag <= 0n || (idleMs < thresholds.stageIdleMs && !stillIdle)) return [];
    return [
      {
        jobId: null,
        code: ALERT_CODES.stageNotConsuming,
        subject: stageSubject(p),
        severity: 'critical' as const,
        message:
          `${p.stage} is not consuming ${p.topic} partition ${p.partition}: ${p.lag} message(s) to read and ` +
          `nothing committed for ${Math.round(idleMs / 1000)} s (group ${p.group})`,
        context: {
          stage: p.stage,
          group: p.group,
          topic: p.topic,
          partition: String(p.partition),
          lag: String(p.lag),
          committed,
        },
      },
    ];
  });
}

/** The subject of a `STAGE_NOT_CONSUMING` alert: `<group>/<topic>/<partition>`. */
export function stageSubject(p: Pick<StagePartitionFacts, 'group' | 'topic' | 'partition'>): string {
  return `${p.group}/${p.topic}/${p.partition}`;
}

/** What to change: conditions to open (none of their key is open) and open alerts to close, with why. */
export interface AlertChanges {
  readonly open: readonly AlertCondition[];
  readonly close: readonly { readonly alert: OpenAlertKey; readonly reason: string }[];
}

/**
 * Compares the conditions that hold with the alerts open now (those the evaluation is about: one job's, or the
 * stages'). `closeReason` says why an open alert's condition no longer holds.
 */
export function alertChanges(
  conditions: readonly AlertCondition[],
  open: readonly OpenAlertKey[],
  closeReason: (alert: OpenAlertKey) => string,
): AlertChanges {
  const key = (a: { jobId: string | null; code: string; subject: string }) =>
    `${a.jobId ?? '-'}\u0000${a.code}\u0000${a.subject}`;
  const openKeys = new Set(open.map(key));
  const holding = new Set(conditions.map(key));
  return {
    open: conditions.filter((c) => !openKeys.has(key(c))),
    close: open.filter((a) => !holding.has(key(a))).map((alert) => ({ alert, reason: closeReason(alert) })),
  };
}

/** Why a job's open alert no longer holds, in the facts' terms. */
export function jobCloseReason(
  alert: OpenAlertKey,
  facts: JobAlertFacts,
  thresholds: AlertThresholds,
): string {
  const { job } = facts;
  if (job.state === 'inactive') return `job ${job.id} was terminated`;
  const syncEnded = `sync ${alert.subject} ended: the job is in sync ${job.syncId ?? 'none'} now (resync or restart)`;
  switch (alert.code) {
    case ALERT_CODES.oplogBehind:
      if (job.syncId !== alert.subject) return syncEnded;
      if (job.state !== 'active' && job.state !== 'initial-sync') return `job ${job.id} is ${job.state}`;
      return facts.latestStoredOplogTs === undefined
        ? 'the source wrote nothing new'
        : `oplog stored up to ${formatOpTime(facts.latestStoredOplogTs)}`;
    case ALERT_CODES.lagHigh:
      if (job.syncId !== alert.subject) return syncEnded;
      if (job.state !== 'active') return `job ${job.id} is ${job.state}`;
      return facts.lagSeconds === null
        ? 'the lag is unknown'
        : `lag ${facts.lagSeconds} s is within ${thresholds.lagHighSeconds} s`;
    case ALERT_CODES.snapshotFailed: {
      const done = newestFinished(facts.snapshots, snapshotFinishedAt);
      return done === undefined
        ? 'the failed snapshot is no longer in the catalog'
        : `snapshot ${done.snapshotId} completed`;
    }
    case ALERT_CODES.verifyFailed: {
      const s = facts.snapshots.find((e) => e.snapshotId === alert.subject);
      if (s === undefined || s.state === 'expired' || s.state === 'deleted')
        return `snapshot ${alert.subject} is ${s?.state ?? 'gone'}`;
      return `a verify at ${s.lastVerify?.at.toISOString() ?? '?'} found snapshot ${alert.subject} intact`;
    }
    case ALERT_CODES.restoreFailed: {
      const done = newestFinished(facts.restores, (r) =>
        r.state === 'complete' || r.state === 'failed' ? r.endedAt : undefined,
      );
      return done === undefined
        ? 'the failed restore is no longer recorded'
        : `restore ${done.restoreId} completed`;
    }
    default:
      return job.syncId !== alert.subject ? syncEnded : `its condition no longer holds`;
  }
}

/** Why a stage's open alert no longer holds. */
export function stageCloseReason(alert: OpenAlertKey, partitions: readonly StagePartitionFacts[]): string {
  const p = partitions.find((x) => stageSubject(x) === alert.subject);
  if (p === undefined) return `${alert.subject} is no longer read`;
  return p.lag <= 0n
    ? `the group read everything on ${p.topic} partition ${p.partition}`
    : `the group committed offset ${p.committed === null ? 'none' : String(p.committed)}`;
}

/** Snapshots that ended (complete or failed; an expired one was complete): when they ended. */
function snapshotFinishedAt(s: SnapshotEntry): Date | undefined {
  if (s.state === 'failed') return s.completedAt ?? s.takenAt ?? s.requestedAt ?? s.updatedAt;
  if (s.state === 'complete') return s.completedAt ?? s.takenAt ?? s.updatedAt;
  return undefined;
}

/** The entry that finished last (by `finishedAt`; undefined for entries that did not finish). */
function newestFinished<T>(entries: readonly T[], finishedAt: (e: T) => Date | undefined): T | undefined {
  let best: { entry: T; at: number } | undefined;
  for (const entry of entries) {
    const at = finishedAt(entry)?.getTime();
    if (at !== undefined && (best === undefined || at > best.at)) best = { entry, at };
  }
  return best?.entry;
}

/**
 * Remembers since when an observed value has been what it is (per key), e.g. a job's newest stored oplog
 * position or a group's committed offset: `since` moves to `now` whenever the value changes. Lives in one
 * job-state process: after a restart, "since" starts again (an alert then opens later, never wrongly).
 */
export class ChangeClock {
  private readonly seen = new Map<string, { value: string; since: Date }>();

  /** Since when `key` has had `value` (now when it is new or changed). */
  observe(key: string, value: string, now: Date): Date {
    const prev = this.seen.get(key);
    if (prev !== undefined && prev.value === value) return prev.since;
    this.seen.set(key, { value, since: now });
    return now;
  }

  /** Forgets keys not in `keep` (jobs and partitions no longer evaluated). */
  retain(prefix: string, keep: ReadonlySet<string>): void {
    for (const k of this.seen.keys()) if (k.startsWith(prefix) && !keep.has(k)) this.seen.delete(k);
  }
}
