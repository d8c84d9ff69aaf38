/**
 * A job as stored in `<TIDEMARK_META_DB>.jobs` (default `tidemark_meta.jobs`), one document per job, `_id` = job id.
 *
 * - Int64 counters are BSON Int64 (written from bigint, read with `useBigInt64`), never doubles;
 * - oplog positions are BSON Timestamps;
 * - maps whose keys come from other stages (details, alert context, command params) are stored as
 *   `{ key, value }` pairs: such keys may hold `.` or `$`, which MongoDB does not accept everywhere in field names;
 * - absent values are `null` (the driver would otherwise write `undefined` as null anyway);
 * - `pendingEffects` mirrors "outbox not empty or deletions pending" so the flusher finds those jobs by index.
 */
import { Timestamp } from 'mongodb';
import type { OpTime, Phase } from '@tidemark/domain';
import {
  hasPendingEffects,
  type JobAlert,
  type JobBlock,
  type JobCommandAction,
  type JobRecord,
  type NamespaceProgress,
  type OutboxMessage,
  type PhaseProgressEntry,
  type PhaseReport,
} from '@tidemark/jobs';

interface Pair {
  key: string;
  value: string;
}

interface CountersDocument {
  docsCopied: bigint;
  docsTotal: bigint | null;
  bytesCopied: bigint;
  bytesTotal: bigint | null;
}

type NamespaceProgressDocument = CountersDocument & { namespace: string };

interface ProgressDocument extends CountersDocument {
  phase: Phase;
  stage: string;
  namespaces: NamespaceProgressDocument[];
  reportedAt: Date;
}

interface AlertDocument {
  alertId: string;
  code: string;
  severity: JobAlert['severity'];
  message: string;
  context: Pair[];
  at: Date;
  syncId: string | null;
}

interface PhaseReportDocument {
  jobId: string;
  syncId: string;
  phase: Phase;
  stage: string;
  progress: CountersDocument & { namespaces: NamespaceProgressDocument[] };
  sourceTs: Timestamp | null;
  details: Pair[];
  at: Date;
}

type OutboxDocument =
  | {
      id: string;
      kind: 'command';
      command: {
        commandId: string;
        jobId: string;
        action: JobCommandAction;
        issuedAt: Date;
        params: Pair[];
      };
    }
  | { id: string; kind: 'phase'; report: PhaseReportDocument };

export interface JobDocument {
  _id: string;
  project: string;
  source: { uri: string };
  filters: { include: string[]; exclude: string[] };
  schedule: JobRecord['schedule'];
  state: JobRecord['state'];
  phase: Phase | null;
  syncId: string | null;
  syncNo: number;
  progress: ProgressDocument[];
  details: Pair[];
  sourceTs: Timestamp | null;
  alerts: AlertDocument[];
  blocked: JobBlock | null;
  outbox: OutboxDocument[];
  deletedThrough: number;
  pendingDeletionThrough: number;
  pendingEffects: boolean;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

const pairs = (map: Readonly<Record<string, string>>): Pair[] =>
  Object.entries(map).map(([key, value]) => ({ key, value }));
const record = (list: readonly Pair[]): Record<string, string> =>
  Object.fromEntries(list.map((p) => [p.key, p.value]));
const ts = (p: OpTime | undefined): Timestamp | null =>
  p === undefined ? null : new Timestamp({ t: p.t, i: p.i });
const opTime = (t: Timestamp | null | undefined): OpTime | undefined =>
  t === null || t === undefined ? undefined : { t: t.t, i: t.i };
/** An Int64 as read (bigint with `useBigInt64`; a number if a writer stored an Int32 or a double). */
const int64 = (v: bigint | number): bigint => (typeof v === 'bigint' ? v : BigInt(v));
const int64OrNull = (v: bigint | number | null): bigint | null => (v === null ? null : int64(v));

function countersDoc(c: CountersDocument): CountersDocument {
  return {
    docsCopied: c.docsCopied,
    docsTotal: c.docsTotal,
    bytesCopied: c.bytesCopied,
    bytesTotal: c.bytesTotal,
  };
}
function countersOf(c: CountersDocument): CountersDocument {
  return {
    docsCopied: int64(c.docsCopied),
    docsTotal: int64OrNull(c.docsTotal),
    bytesCopied: int64(c.bytesCopied),
    bytesTotal: int64OrNull(c.bytesTotal),
  };
}
const namespaceDoc = (n: NamespaceProgress): NamespaceProgressDocument => ({
  namespace: n.namespace,
  ...countersDoc(n),
});
const namespaceOf = (n: NamespaceProgressDocument): NamespaceProgress => ({
  namespace: n.namespace,
  ...countersOf(n),
});

function reportDoc(r: PhaseReport): PhaseReportDocument {
  return {
    jobId: r.jobId,
    syncId: r.syncId,
    phase: r.phase,
    stage: r.stage,
    progress: { ...countersDoc(r.progress), namespaces: r.progress.namespaces.map(namespaceDoc) },
    sourceTs: ts(r.sourceTs),
    details: pairs(r.details),
    at: r.at,
  };
}

function reportOf(d: PhaseReportDocument): PhaseReport {
  return {
    jobId: d.jobId,
    syncId: d.syncId,
    phase: d.phase,
    stage: d.stage,
    progress: { ...countersOf(d.progress), namespaces: d.progress.namespaces.map(namespaceOf) },
    sourceTs: opTime(d.sourceTs),
    details: record(d.details),
    at: d.at,
  };
}

function outboxDoc(m: OutboxMessage): OutboxDocument {
  if (m.kind === 'phase') return { id: m.id, kind: 'phase', report: reportDoc(m.report) };
  const c = m.command;
  return {
    id: m.id,
    kind: 'command',
    command: {
      commandId: c.commandId,
      jobId: c.jobId,
      action: c.action,
      issuedAt: c.issuedAt,
      params: pairs(c.params),
    },
  };
}

function outboxOf(d: OutboxDocument): OutboxMessage {
  if (d.kind === 'phase') return { id: d.id, kind: 'phase', report: reportOf(d.report) };
  const c = d.command;
  return {
    id: d.id,
    kind: 'command',
    command: {
      commandId: c.commandId,
      jobId: c.jobId,
      action: c.action,
      issuedAt: c.issuedAt,
      params: record(c.params),
    },
  };
}

export function toJobDocument(job: JobRecord): JobDocument {
  return {
    _id: job.id,
    project: job.project,
    source: { uri: job.source.uri },
    filters: { include: [...job.namespaces.include], exclude: [...job.namespaces.exclude] },
    schedule: job.schedule,
    state: job.state,
    phase: job.phase ?? null,
    syncId: job.syncId ?? null,
    syncNo: job.syncNo,
    progress: job.progress.map((e: PhaseProgressEntry) => ({
      phase: e.phase,
      stage: e.stage,
      ...countersDoc(e),
      namespaces: e.namespaces.map(namespaceDoc),
      reportedAt: e.reportedAt,
    })),
    details: pairs(job.details),
    sourceTs: ts(job.sourceTs),
    alerts: job.alerts.map((a) => ({
      alertId: a.alertId,
      code: a.code,
      severity: a.severity,
      message: a.message,
      context: pairs(a.context),
      at: a.at,
      syncId: a.syncId ?? null,
    })),
    blocked: job.blocked ?? null,
    outbox: job.outbox.map(outboxDoc),
    deletedThrough: job.deletedThrough,
    pendingDeletionThrough: job.pendingDeletionThrough,
    pendingEffects: hasPendingEffects(job),
    revision: job.revision,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export function fromJobDocument(d: JobDocument): JobRecord {
  return {
    id: d._id,
    project: d.project,
    source: { uri: d.source.uri, auth: undefined },
    namespaces: { include: d.filters.include, exclude: d.filters.exclude },
    schedule: d.schedule,
    state: d.state,
    phase: d.phase ?? undefined,
    syncId: d.syncId ?? undefined,
    syncNo: Number(d.syncNo),
    progress: d.progress.map((e) => ({
      phase: e.phase,
      stage: e.stage,
      ...countersOf(e),
      namespaces: e.namespaces.map(namespaceOf),
      reportedAt: e.reportedAt,
    })),
    details: record(d.details),
    sourceTs: opTime(d.sourceTs),
    alerts: d.alerts.map((a) => ({
      alertId: a.alertId,
      code: a.code,
      severity: a.severity,
      message: a.message,
      context: record(a.context),
      at: a.at,
      syncId: a.syncId ?? undefined,
    })),
    blocked: d.blocked ?? undefined,
    outbox: d.outbox.map(outboxOf),
    deletedThrough: Number(d.deletedThrough),
    pendingDeletionThrough: Number(d.pendingDeletionThrough),
    revision: Number(d.revision),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}
