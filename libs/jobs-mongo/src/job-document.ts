/**
 * A job as stored in `<TIDEMARK_META_DB>.jobs` (default `tidemark_meta.jobs`), one document per job, `_id` = job id.
 *
 * - Int64 counters are BSON Int64 (written from bigint, read with `useBigInt64`), never doubles;
 * - oplog positions are BSON Timestamps;
 * - maps whose keys come from other stages (details, alert context, command params) are stored as
 *   `{ key, value }` pairs: such keys may hold `.` or `$`, which MongoDB does not accept everywhere in field names;
 * - absent values are `null` (the driver would otherwise write `undefined` as null anyway);
 * - `pendingEffects` mirrors "outbox not empty or deletions pending" so the flusher finds those jobs by index;
 * - `v` is the format version (`JOB_DOCUMENT_FORMAT`, docs/format.md "Stored records"): `fromJobDocument` checks it
 *   before anything else and throws `UnknownFormatVersionError` for a version this build does not read; a document
 *   without `v` (written before versions) is version 1.
 */
import { Timestamp } from 'mongodb';
import {
  checkRecordVersion,
  DEFAULT_SNAPSHOT_STORE,
  recordFormat,
  scheduleFromV1,
  type SnapshotSchedule,
  type SnapshotScheduleV1,
  type SnapshotStoreSpec,
  type NamespaceProgress,
  type OpTime,
  type Phase,
  type PhaseReport,
} from '@tidemark/domain';
import {
  hasPendingEffects,
  jobSpecAndState,
  type JobAlert,
  type JobBlock,
  type JobCommandAction,
  type JobCommandMessage,
  type JobRecord,
  type PhaseProgressEntry,
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
  /** Set when job-state's lifecycle closed the alert; absent while open (and in older documents). */
  closedAt?: Date;
  closeReason?: string;
}

interface PhaseReportDocument {
  jobId: string;
  syncId: string;
  phase: Phase;
  stage: string;
  progress: CountersDocument & { namespaces: NamespaceProgressDocument[] };
  appliedTs: Timestamp | null;
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

/**
 * Format of a `jobs` document. Version 3: `readLimit` (MB/s, `null` for none); a build that reads only version 2
 * would drop it when it rewrote the job, so it must refuse the document instead. Versions 1 and 2 read as uncapped.
 * Version 2 (snapshots): `schedule` in minutes (`intervalMinutes`, `retention.baseMinutes`) and `snapshotStore`;
 * version 1 had `intervalHours`, `retention.snapshots` and no store, and reads as the same schedule in minutes
 * (`scheduleFromV1`) with the blockstore.
 */
export const JOB_DOCUMENT_FORMAT = recordFormat('job', 3, [1, 2, 3]);

export interface JobDocument {
  _id: string;
  /** Format version; absent in documents written before versions (read as 1). */
  v?: number;
  project: string;
  source: { uri: string };
  filters: { include: string[]; exclude: string[] };
  /** Format 1: {@link SnapshotScheduleV1}. */
  schedule: SnapshotSchedule | SnapshotScheduleV1;
  /** Absent in format 1 (the blockstore). */
  snapshotStore?: SnapshotStoreSpec;
  /** MB/s, `null` for none; absent before format 3 (none). */
  readLimit?: number | null;
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
/** The counters alone, as bigint both ways (written as Int64). */
const counters = (c: CountersDocument): CountersDocument => ({
  docsCopied: int64(c.docsCopied),
  docsTotal: int64OrNull(c.docsTotal),
  bytesCopied: int64(c.bytesCopied),
  bytesTotal: int64OrNull(c.bytesTotal),
});

/**
 * The values whose form differs between the record and the document: positions (OpTime or Timestamp), string maps
 * (plain objects or key/value pairs) and absent values (undefined or null).
 */
interface Layout {
  readonly ts: unknown;
  readonly map: unknown;
  readonly absent: null | undefined;
}
interface RecordLayout extends Layout {
  readonly ts: OpTime | undefined;
  readonly map: Readonly<Record<string, string>>;
  readonly absent: undefined;
}
interface DocumentLayout extends Layout {
  readonly ts: Timestamp | null;
  readonly map: Pair[];
  readonly absent: null;
}

/**
 * Converts those values from one layout to the other. Each mapper below is written once for both directions
 * (`TO_DOCUMENT` when writing, `FROM_DOCUMENT` when reading) and copies every other field as it is.
 */
interface Conversion<F extends Layout, T extends Layout> {
  ts(t: F['ts']): T['ts'];
  map(m: F['map']): T['map'];
  readonly absent: T['absent'];
}

const TO_DOCUMENT: Conversion<RecordLayout, DocumentLayout> = { ts, map: pairs, absent: null };
const FROM_DOCUMENT: Conversion<DocumentLayout, RecordLayout> = {
  ts: opTime,
  map: record,
  absent: undefined,
};

type AlertIn<L extends Layout> = Omit<JobAlert, 'context' | 'syncId'> & {
  readonly context: L['map'];
  readonly syncId: string | L['absent'];
};
type ReportIn<L extends Layout> = Omit<PhaseReport, 'appliedTs' | 'sourceTs' | 'details'> & {
  readonly appliedTs: L['ts'];
  readonly sourceTs: L['ts'];
  readonly details: L['map'];
};
type OutboxIn<L extends Layout> =
  | {
      readonly id: string;
      readonly kind: 'command';
      readonly command: Omit<JobCommandMessage, 'params'> & { readonly params: L['map'] };
    }
  | { readonly id: string; readonly kind: 'phase'; readonly report: ReportIn<L> };
/** What a job holds about its current sync. */
interface SyncIn<L extends Layout> {
  readonly progress: readonly PhaseProgressEntry[];
  readonly details: L['map'];
  readonly sourceTs: L['ts'];
  readonly alerts: readonly AlertIn<L>[];
  readonly blocked: JobBlock | L['absent'];
  readonly outbox: readonly OutboxIn<L>[];
}

const namespaceProgress = (n: NamespaceProgress) => ({ namespace: n.namespace, ...counters(n) });

const progressEntry = (e: PhaseProgressEntry) => ({
  phase: e.phase,
  stage: e.stage,
  ...counters(e),
  namespaces: e.namespaces.map(namespaceProgress),
  reportedAt: e.reportedAt,
});

function alertWith<F extends Layout, T extends Layout>(a: AlertIn<F>, c: Conversion<F, T>) {
  return {
    alertId: a.alertId,
    code: a.code,
    severity: a.severity,
    message: a.message,
    context: c.map(a.context),
    at: a.at,
    syncId: a.syncId ?? c.absent,
    ...(a.closedAt == null ? {} : { closedAt: a.closedAt }),
    ...(a.closeReason == null ? {} : { closeReason: a.closeReason }),
  };
}

function reportWith<F extends Layout, T extends Layout>(r: ReportIn<F>, c: Conversion<F, T>) {
  return {
    jobId: r.jobId,
    syncId: r.syncId,
    phase: r.phase,
    stage: r.stage,
    progress: { ...counters(r.progress), namespaces: r.progress.namespaces.map(namespaceProgress) },
    // Outbox reports written before appliedTs was kept lack it: `opTime` reads a missing field as absent.
    appliedTs: c.ts(r.appliedTs),
    sourceTs: c.ts(r.sourceTs),
    details: c.map(r.details),
    at: r.at,
  };
}

function outboxWith<F extends Layout, T extends Layout>(m: OutboxIn<F>, c: Conversion<F, T>) {
  if (m.kind === 'phase') return { id: m.id, kind: 'phase' as const, report: reportWith(m.report, c) };
  const k = m.command;
  return {
    id: m.id,
    kind: 'command' as const,
    command: {
      commandId: k.commandId,
      jobId: k.jobId,
      action: k.action,
      issuedAt: k.issuedAt,
      params: c.map(k.params),
    },
  };
}

function syncWith<F extends Layout, T extends Layout>(j: SyncIn<F>, c: Conversion<F, T>) {
  return {
    progress: j.progress.map(progressEntry),
    details: c.map(j.details),
    sourceTs: c.ts(j.sourceTs),
    alerts: j.alerts.map((a) => alertWith(a, c)),
    blocked: j.blocked ?? c.absent,
    outbox: j.outbox.map((m) => outboxWith(m, c)),
  };
}

export function toJobDocument(job: JobRecord): JobDocument {
  return {
    _id: job.id,
    v: JOB_DOCUMENT_FORMAT.current,
    ...jobSpecAndState(job),
    ...syncWith(job, TO_DOCUMENT),
    deletedThrough: job.deletedThrough,
    pendingDeletionThrough: job.pendingDeletionThrough,
    pendingEffects: hasPendingEffects(job),
    revision: job.revision,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** Reads a job document; `where` (collection and id) names it in an `UnknownFormatVersionError`. */
export function fromJobDocument(d: JobDocument, where?: string): JobRecord {
  const version = checkRecordVersion(JOB_DOCUMENT_FORMAT, d, where);
  return {
    id: d._id,
    project: d.project,
    source: { uri: d.source.uri, auth: undefined },
    namespaces: { include: d.filters.include, exclude: d.filters.exclude },
    schedule:
      version === 1 ? scheduleFromV1(d.schedule as SnapshotScheduleV1) : (d.schedule as SnapshotSchedule),
    snapshotStore: version === 1 ? DEFAULT_SNAPSHOT_STORE : (d.snapshotStore ?? DEFAULT_SNAPSHOT_STORE),
    ...(version >= 3 && typeof d.readLimit === 'number' ? { readLimit: d.readLimit } : {}),
    state: d.state,
    phase: d.phase ?? undefined,
    syncId: d.syncId ?? undefined,
    syncNo: Number(d.syncNo),
    ...syncWith(d, FROM_DOCUMENT),
    deletedThrough: Number(d.deletedThrough),
    pendingDeletionThrough: Number(d.pendingDeletionThrough),
    revision: Number(d.revision),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}
