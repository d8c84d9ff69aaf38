/**
 * Phase reports: how every stage says where a sync is and how far it got. One type for all six stages; the bus
 * carries it as `PhaseChanged` (`@tidemark/bus` phase-mapping, the one mapping both ways, keyed by job id) and
 * job-state folds it into the job.
 *
 * Counters are Int64 on the wire, so they are bigint here; a total is null while unknown.
 */
import type { OpTime } from './op-time';
import type { Phase } from './phase';

/** The stage that reports: one of the six services. */
export type ReportingStage =
  'agent' | 'slice-ingest' | 'head-builder' | 'oplog-applier' | 'snapshotter' | 'job-state';

/** Cumulative counters of a progress report; totals are null while unknown. */
export interface ProgressCounters {
  readonly docsCopied: bigint;
  readonly docsTotal: bigint | null;
  readonly bytesCopied: bigint;
  readonly bytesTotal: bigint | null;
}

/** Counters of one namespace (`db.coll`). */
export interface NamespaceProgress extends ProgressCounters {
  readonly namespace: string;
}

/** How far a phase got: overall and per namespace. */
export interface PhaseProgress extends ProgressCounters {
  readonly namespaces: readonly NamespaceProgress[];
}

/** Nothing counted yet, totals unknown. */
export const NO_PROGRESS: PhaseProgress = Object.freeze({
  docsCopied: 0n,
  docsTotal: null,
  bytesCopied: 0n,
  bytesTotal: null,
  namespaces: Object.freeze([]) as readonly NamespaceProgress[],
});

/** A stage says where the sync `syncId` of job `jobId` is and how far it got. */
export interface PhaseReport {
  readonly jobId: string;
  readonly syncId: string;
  readonly phase: Phase;
  /** The reporting stage: a {@link ReportingStage} in reports this build makes. */
  readonly stage: string;
  readonly progress: PhaseProgress;
  /** The head's applied oplog position, when the stage applies oplogs. */
  readonly appliedTs: OpTime | undefined;
  /** Newest source oplog position the stage has seen, for lag, when known. */
  readonly sourceTs: OpTime | undefined;
  /** Stage-specific facts as text: startTs / endTs (`t.i`), serverVersion, featureCompatibilityVersion, reason, ... */
  readonly details: Readonly<Record<string, string>>;
  /** When the stage made the report. */
  readonly at: Date;
}

/** What a stage fills in; {@link phaseReport} completes the rest. */
export interface PhaseReportFields {
  readonly jobId: string;
  readonly syncId: string;
  readonly phase: Phase;
  readonly progress?: PhaseProgress;
  readonly appliedTs?: OpTime;
  readonly sourceTs?: OpTime;
  readonly details?: Readonly<Record<string, string>>;
}

/** A stage's report, made now (or at `at`), with no progress, positions or details unless given. */
export function phaseReport(
  stage: ReportingStage,
  fields: PhaseReportFields,
  at: Date = new Date(),
): PhaseReport {
  return {
    jobId: fields.jobId,
    syncId: fields.syncId,
    phase: fields.phase,
    stage,
    progress: fields.progress ?? NO_PROGRESS,
    appliedTs: fields.appliedTs,
    sourceTs: fields.sourceTs,
    details: { ...fields.details },
    at,
  };
}
