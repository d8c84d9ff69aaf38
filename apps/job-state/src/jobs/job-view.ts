/**
 * The job view: what job-state knows about one backup job, folded from the events on the bus. For now it
 * holds the latest initial-sync phase report (from `tidemark.phases`); snapshots and alerts come later.
 *
 * Stored in `<TIDEMARK_META_DB>.jobs` (default `tidemark_meta.jobs`), one document per job, `_id` = job id.
 * Int64 counters are stored as BSON Int64 and shown as decimal strings in the API (never JS numbers).
 */
import { Timestamp } from 'mongodb';
import { phaseFromAvro, opTimeFromAvroLong, type PhaseChanged } from '@tidemark/bus';
import { formatOpTime, phaseIndex, type Phase } from '@tidemark/domain';

/** Progress counters of one namespace, as stored. */
export interface NamespaceProgressDocument {
  namespace: string;
  docsCopied: bigint;
  docsTotal: bigint | null;
  bytesCopied: bigint;
  bytesTotal: bigint | null;
}

/** The `jobs` collection document. */
export interface JobViewDocument {
  _id: string;
  jobId: string;
  /** The initial sync (or resync) the phase belongs to. */
  syncId: string;
  phase: Phase;
  /** `phaseIndex(phase)`, so "only forward" is one comparison in the update filter. */
  phaseIndex: number;
  /** The stage that made the report. */
  stage: string;
  progress: {
    docsCopied: bigint;
    docsTotal: bigint | null;
    bytesCopied: bigint;
    bytesTotal: bigint | null;
    namespaces: NamespaceProgressDocument[];
  };
  /** Last applied oplog position, when the phase applies oplogs. */
  appliedTs: Timestamp | null;
  /** Newest source oplog position the reporting stage has seen (for lag), when known. */
  sourceTs: Timestamp | null;
  /**
   * Stage-specific facts, as reported, stored as `{ key, value }` pairs: the keys come from stages and may hold
   * `.` or `$`, which MongoDB does not accept everywhere in field names.
   */
  details: { key: string; value: string }[];
  /** When the stage made the report (the event's `at`). Orders reports of different sync attempts. */
  reportedAt: Date;
}

/** The job view as `GET /api/v1/jobs[/:id]` returns it. */
export interface JobView {
  jobId: string;
  syncId: string;
  phase: Phase;
  stage: string;
  progress: {
    docsCopied: string;
    docsTotal: string | null;
    bytesCopied: string;
    bytesTotal: string | null;
    namespaces: {
      namespace: string;
      docsCopied: string;
      docsTotal: string | null;
      bytesCopied: string;
      bytesTotal: string | null;
    }[];
  };
  /** `<t>:<i>` or null. */
  appliedTs: string | null;
  /** `<t>:<i>` or null. */
  sourceTs: string | null;
  details: Record<string, string>;
  reportedAt: string;
}

/** The document a PhaseChanged event makes (without `_id`). Throws SchemaMismatchError for an unknown phase. */
export function viewFromPhaseChanged(event: PhaseChanged): Omit<JobViewDocument, '_id'> {
  const phase = phaseFromAvro(event.phase);
  return {
    jobId: event.jobId,
    syncId: event.syncId,
    phase,
    phaseIndex: phaseIndex(phase),
    stage: event.stage,
    progress: {
      docsCopied: event.progress.docsCopied,
      docsTotal: event.progress.docsTotal,
      bytesCopied: event.progress.bytesCopied,
      bytesTotal: event.progress.bytesTotal,
      namespaces: event.progress.namespaces.map((n) => ({ ...n })),
    },
    appliedTs: timestampOf(event.appliedTs),
    sourceTs: timestampOf(event.sourceTs),
    details: Object.entries(event.details).map(([key, value]) => ({ key, value })),
    reportedAt: event.at,
  };
}

function timestampOf(avroLong: bigint | null): Timestamp | null {
  if (avroLong === null) return null;
  const { t, i } = opTimeFromAvroLong(avroLong);
  return new Timestamp({ t, i });
}

const formatTs = (ts: Timestamp | null): string | null =>
  ts === null ? null : formatOpTime({ t: ts.t, i: ts.i });

const str = (v: bigint | number): string => BigInt(v).toString();
const strOrNull = (v: bigint | number | null): string | null => (v === null ? null : str(v));

/** The API shape of a stored document (read with `useBigInt64`). */
export function toJobView(doc: JobViewDocument): JobView {
  return {
    jobId: doc.jobId,
    syncId: doc.syncId,
    phase: doc.phase,
    stage: doc.stage,
    progress: {
      docsCopied: str(doc.progress.docsCopied),
      docsTotal: strOrNull(doc.progress.docsTotal),
      bytesCopied: str(doc.progress.bytesCopied),
      bytesTotal: strOrNull(doc.progress.bytesTotal),
      namespaces: doc.progress.namespaces.map((n) => ({
        namespace: n.namespace,
        docsCopied: str(n.docsCopied),
        docsTotal: strOrNull(n.docsTotal),
        bytesCopied: str(n.bytesCopied),
        bytesTotal: strOrNull(n.bytesTotal),
      })),
    },
    appliedTs: formatTs(doc.appliedTs),
    sourceTs: formatTs(doc.sourceTs),
    details: Object.fromEntries(doc.details.map((d) => [d.key, d.value])),
    reportedAt: doc.reportedAt.toISOString(),
  };
}
