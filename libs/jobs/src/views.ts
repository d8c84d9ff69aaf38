/**
 * The JSON shapes of job-state's REST API (documented in docs/api.md; fields are only ever added). Int64
 * counters are decimal strings (JSON numbers lose precision above 2^53), oplog positions `"<t>:<i>"`, times ISO
 * 8601 UTC.
 */
import {
  compareOpTime,
  formatOpTime,
  parseOpTime,
  restorableWindow,
  storedPosition,
  type OplogPosition,
  type OpTime,
  type Phase,
  type SnapshotSchedule,
  type SnapshotStoreSpec,
} from '@tidemark/domain';
import { userActionsAllowed, type UserAction } from './job-actions';
import type { NamespaceProgress } from '@tidemark/domain';
import type { JobAlert, JobBlock, JobRecord, PhaseProgressEntry } from './job-record';
import type { HeadFacts } from './ports';
import { snapshotView, type SnapshotEntry, type SnapshotView } from './snapshot-catalog';

export interface AlertView {
  alertId: string;
  code: string;
  severity: string;
  message: string;
  context: Record<string, string>;
  syncId: string | null;
  at: string;
  /** `open`, or `closed` once job-state's lifecycle closed it (docs/api.md, "Alerts"). */
  state: 'open' | 'closed';
  closedAt: string | null;
  closeReason: string | null;
}

export interface BlockView {
  code: string;
  message: string;
  alertId: string;
  at: string;
}

/** `GET /api/v1/jobs/:id`, the elements of `GET /api/v1/jobs`, and the answer of every action. */
export interface JobView {
  id: string;
  project: string;
  source: { uri: string };
  filters: { include: string[]; exclude: string[] };
  schedule: SnapshotSchedule;
  snapshotStore: SnapshotStoreSpec;
  /** MB/s the agent may read from the source; null: uncapped. */
  readLimit: number | null;
  state: JobRecord['state'];
  phase: Phase | null;
  syncId: string | null;
  syncNo: number;
  allowedActions: UserAction[];
  blocked: BlockView | null;
  alerts: AlertView[];
  /** Commands not yet acknowledged by Kafka, or retained backups not yet deleted (retried automatically). */
  pendingEffects: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CountersView {
  docsCopied: string;
  docsTotal: string | null;
  bytesCopied: string;
  bytesTotal: string | null;
  /** 0..100 with one decimal, from bytes when their total is known, else documents; null when neither is. */
  percent: number | null;
}

export interface NamespaceProgressView extends CountersView {
  namespace: string;
}

/** `GET /api/v1/jobs/:id/status`: the stable status contract. */
export interface JobStatus {
  id: string;
  project: string;
  state: JobRecord['state'];
  phase: Phase | null;
  syncId: string | null;
  syncNo: number;
  progress: CountersView & { stage: string | null; namespaces: NamespaceProgressView[] };
  appliedOpTime: string | null;
  lag: { seconds: number | null; entries: number | null };
  head: { uri: string; namespaces: Record<string, string> };
  source: { serverVersion: string | null; featureCompatibilityVersion: string | null };
  alerts: AlertView[];
  blocked: BlockView | null;
  /** The newest complete snapshot, null when there is none. */
  lastSnapshot: SnapshotView | null;
  /** How many complete snapshots are retained. */
  snapshots: number;
  /**
   * What can be restored: from the oldest retained complete snapshot to the newest stored oplog position (`t:i`, and
   * the wall time: the entry's own at a snapshot, the timestamp's second at the stored end); null without a snapshot.
   */
  restorableWindow: { from: PositionView; to: PositionView } | null;
  /** MB/s the agent may read from the source (the job's setting); null: uncapped. */
  readLimit: number | null;
}

/** An oplog position as the API shows it. */
export interface PositionView {
  opTime: string;
  wallTime: string | null;
}

/** `GET /api/v1/jobs/:id/resume`, for the agent. */
export interface JobResume {
  id: string;
  syncId: string | null;
  syncNo: number;
  state: JobRecord['state'];
  phase: Phase | null;
  startTs: string | null;
  resumeTs: string | null;
}

/** The elements of `GET /api/v1/agent/jobs`. */
export interface AgentJob {
  id: string;
  state: JobRecord['state'];
  phase: Phase | null;
  syncId: string | null;
  syncNo: number;
  source: { uri: string };
  filters: { include: string[]; exclude: string[] };
  /** MB/s the agent may read from the job's source; null: uncapped. */
  readLimit: number | null;
}

const iso = (d: Date): string => d.toISOString();

export function alertView(a: JobAlert): AlertView {
  return {
    alertId: a.alertId,
    code: a.code,
    severity: a.severity,
    message: a.message,
    context: { ...a.context },
    syncId: a.syncId ?? null,
    at: iso(a.at),
    state: a.closedAt === undefined ? 'open' : 'closed',
    closedAt: a.closedAt === undefined ? null : iso(a.closedAt),
    closeReason: a.closeReason ?? null,
  };
}

function blockView(b: JobBlock | undefined): BlockView | null {
  return b === undefined ? null : { code: b.code, message: b.message, alertId: b.alertId, at: iso(b.at) };
}

/**
 * The job's spec (project, source URI, namespace filters, schedule) and where it stands (state, phase, sync), absent
 * values as null: the fields after the id that the API's {@link JobView} and job-state's stored document share, in
 * their order.
 */
export type JobSpecAndState = Pick<
  JobView,
  | 'project'
  | 'source'
  | 'filters'
  | 'schedule'
  | 'snapshotStore'
  | 'readLimit'
  | 'state'
  | 'phase'
  | 'syncId'
  | 'syncNo'
>;

export function jobSpecAndState(job: JobRecord): JobSpecAndState {
  return {
    project: job.project,
    source: { uri: job.source.uri },
    filters: { include: [...job.namespaces.include], exclude: [...job.namespaces.exclude] },
    schedule: job.schedule,
    snapshotStore: job.snapshotStore,
    readLimit: job.readLimit ?? null,
    state: job.state,
    phase: job.phase ?? null,
    syncId: job.syncId ?? null,
    syncNo: job.syncNo,
  };
}

export function jobView(job: JobRecord): JobView {
  return {
    id: job.id,
    ...jobSpecAndState(job),
    allowedActions: userActionsAllowed(job.state),
    blocked: blockView(job.blocked),
    alerts: job.alerts.map(alertView),
    pendingEffects: job.outbox.length > 0 || job.pendingDeletionThrough > job.deletedThrough,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
  };
}

export function agentJob(job: JobRecord): AgentJob {
  return {
    id: job.id,
    state: job.state,
    phase: job.phase ?? null,
    syncId: job.syncId ?? null,
    syncNo: job.syncNo,
    source: { uri: job.source.uri },
    filters: { include: [...job.namespaces.include], exclude: [...job.namespaces.exclude] },
    readLimit: job.readLimit ?? null,
  };
}

/** A position reported in details: `t.i` (the slice-id form stages use) or `t:i`; undefined when unreadable. */
export function parseDetailTs(text: string | undefined): OpTime | undefined {
  if (text === undefined) return undefined;
  try {
    return parseOpTime(text.includes(':') ? text : text.replace('.', ':'));
  } catch {
    return undefined;
  }
}

export function jobResume(job: JobRecord, resumeTs: OpTime | undefined): JobResume {
  const startTs = parseDetailTs(job.details['startTs']);
  return {
    id: job.id,
    syncId: job.syncId ?? null,
    syncNo: job.syncNo,
    state: job.state,
    phase: job.phase ?? null,
    startTs: startTs === undefined ? null : formatOpTime(startTs),
    resumeTs: resumeTs === undefined ? null : formatOpTime(resumeTs),
  };
}

/** `copied / total` as 0..100 with one decimal; null without a positive total. */
export function percentOf(copied: bigint, total: bigint | null): number | null {
  if (total === null || total <= 0n) return null;
  const tenths = (copied * 1000n) / total;
  return Math.min(100, Number(tenths) / 10);
}

function counters(c: NamespaceProgress | PhaseProgressEntry, complete: boolean): CountersView {
  const percent = complete
    ? 100
    : (percentOf(c.bytesCopied, c.bytesTotal) ?? percentOf(c.docsCopied, c.docsTotal));
  return {
    docsCopied: c.docsCopied.toString(),
    docsTotal: c.docsTotal === null ? null : c.docsTotal.toString(),
    bytesCopied: c.bytesCopied.toString(),
    bytesTotal: c.bytesTotal === null ? null : c.bytesTotal.toString(),
    percent,
  };
}

/**
 * The progress entry shown for the job's phase: among the stages that reported in that phase, the latest report
 * that knows a total (the stage that can say how far along it is), else the latest report.
 */
export function currentProgress(job: JobRecord): PhaseProgressEntry | undefined {
  const inPhase = job.progress
    .filter((e) => e.phase === job.phase)
    .sort((a, b) => b.reportedAt.getTime() - a.reportedAt.getTime());
  return inPhase.find((e) => e.docsTotal !== null || e.bytesTotal !== null) ?? inPhase[0];
}

/**
 * The backup-side URI without credentials: no `user:password@`, and no query option that names a password,
 * token or secret.
 */
export function redactUri(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(uri);
  if (m === null) return uri;
  const [, scheme = '', rest = '', query, fragment = ''] = m;
  const kept =
    query === undefined
      ? ''
      : query
          .slice(1)
          .split('&')
          .filter(
            (kv) =>
              kv !== '' && !/password|token|secret|authMechanismProperties/i.test(kv.split('=')[0] ?? ''),
          )
          .join('&');
  return `${scheme}${rest}${kept === '' ? '' : `?${kept}`}${fragment}`;
}

/** What the status needs from the backup side, read by the service. */
export interface StatusFacts {
  readonly head: HeadFacts | undefined;
  /** Newest `lastTs` of the current sync's stored oplog slices. */
  readonly latestStoredOplogTs: OpTime | undefined;
  /** Smallest `prevTs` of the current sync's stored oplog slices (where its stored oplog starts). */
  readonly oldestStoredOplogTs?: OpTime;
  /** Oplog entries stored after the applied position (undefined without one). */
  readonly entriesAfterApplied: number | undefined;
  /** The backup-side URI (credentials are removed here). */
  readonly backupUri: string;
  /** The job's snapshots from the catalog, newest first (absent: none). */
  readonly snapshots?: readonly SnapshotEntry[];
}

/**
 * The status. `lag.seconds` = max(0, latestSourceTs.t - applied.t), where latestSourceTs is the newest of the
 * `sourceTs` reported in phases or by the agent's capture report and the newest stored oplog slice's `lastTs`; null without an applied position or
 * without any source position.
 */
export function jobStatus(job: JobRecord, facts: StatusFacts): JobStatus {
  const applied = facts.head?.appliedTs;
  const candidates = [job.sourceTs, facts.latestStoredOplogTs].filter((t): t is OpTime => t !== undefined);
  const latest = candidates.sort((a, b) => compareOpTime(b, a))[0];
  const entry = currentProgress(job);
  const complete = job.phase === 'complete';
  const zero: PhaseProgressEntry = {
    phase: job.phase ?? 'starting',
    stage: '',
    docsCopied: 0n,
    docsTotal: null,
    bytesCopied: 0n,
    bytesTotal: null,
    namespaces: [],
    reportedAt: job.updatedAt,
  };
  const shown = entry ?? zero;
  return {
    id: job.id,
    project: job.project,
    state: job.state,
    phase: job.phase ?? null,
    syncId: job.syncId ?? null,
    syncNo: job.syncNo,
    progress: {
      ...counters(shown, complete),
      stage: entry?.stage ?? null,
      namespaces: shown.namespaces.map((n) => ({ namespace: n.namespace, ...counters(n, complete) })),
    },
    appliedOpTime: applied === undefined ? null : formatOpTime(applied),
    lag: {
      seconds: applied === undefined || latest === undefined ? null : Math.max(0, latest.t - applied.t),
      entries: applied === undefined ? null : (facts.entriesAfterApplied ?? null),
    },
    head: {
      uri: redactUri(facts.backupUri),
      namespaces: Object.fromEntries((facts.head?.namespaces ?? []).map((n) => [n.ns, n.headNs])),
    },
    source: {
      serverVersion: job.details['serverVersion'] ?? null,
      featureCompatibilityVersion: job.details['featureCompatibilityVersion'] ?? null,
    },
    alerts: job.alerts.map(alertView),
    blocked: blockView(job.blocked),
    ...snapshotSummary(facts.snapshots ?? []),
    restorableWindow: windowView(job, facts),
    readLimit: job.readLimit ?? null,
  };
}

function positionView(p: OplogPosition): PositionView {
  return { opTime: formatOpTime(p.opTime), wallTime: p.wallTime?.toISOString() ?? null };
}

/** The restorable window (`restorableWindow` of the domain) over the catalog's complete snapshots. */
function windowView(job: JobRecord, facts: StatusFacts): JobStatus['restorableWindow'] {
  const complete = (facts.snapshots ?? []).flatMap((e) =>
    e.state === 'complete' && e.opTime !== undefined && e.syncId !== undefined
      ? [{ opTime: e.opTime, opWallTime: e.opWallTime, syncId: e.syncId }]
      : [],
  );
  const { latestStoredOplogTs: newest, oldestStoredOplogTs: oldest } = facts;
  const window = restorableWindow(complete, (syncId) =>
    syncId === job.syncId && newest !== undefined && oldest !== undefined
      ? { from: oldest, to: storedPosition(newest) }
      : undefined,
  );
  return window === undefined ? null : { from: positionView(window.from), to: positionView(window.to) };
}

function snapshotSummary(entries: readonly SnapshotEntry[]): Pick<JobStatus, 'lastSnapshot' | 'snapshots'> {
  const complete = entries.filter((e) => e.state === 'complete');
  const newest = complete[0];
  return { lastSnapshot: newest === undefined ? null : snapshotView(newest), snapshots: complete.length };
}
