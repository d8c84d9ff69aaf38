/**
 * Phases on the bus, the one mapping both ways: the initial-sync phase as the domain names it (`applying-oplogs`)
 * and as the Avro enum spells it (`APPLYING_OPLOGS`; the symbols are in the domain's order, a spec checks both
 * lists agree), and a phase report (`PhaseReport` of @tidemark/domain) as a `PhaseChanged` record.
 */
import type { Producer } from 'kafkajs';
import {
  isPhase,
  SchemaMismatchError,
  type Phase,
  type PhaseProgress,
  type PhaseReport,
  type PhaseReporter,
  type ProgressCounters,
} from '@tidemark/domain';
import { publish } from './kafka';
import { opTimeFromAvroLong, opTimeToAvroLong } from './op-time-long';
import type { RecordTopic } from './topics';
import {
  AVRO_PHASE_SYMBOLS,
  type AvroPhase,
  type PhaseChanged,
  type PhaseProgress as AvroPhaseProgress,
} from './types';

/** The Avro symbol of a domain phase. */
export function phaseToAvro(phase: Phase): AvroPhase {
  const symbol = phase.toUpperCase().replace(/-/g, '_');
  if (!(AVRO_PHASE_SYMBOLS as readonly string[]).includes(symbol)) {
    throw new SchemaMismatchError({
      schemaName: 'tidemark.phases.Phase',
      detail: `no Avro symbol for phase ${phase}`,
    });
  }
  return symbol as AvroPhase;
}

/** The domain phase of an Avro symbol. */
export function phaseFromAvro(symbol: AvroPhase): Phase {
  const phase = symbol.toLowerCase().replace(/_/g, '-');
  if (!isPhase(phase)) {
    throw new SchemaMismatchError({
      schemaName: 'tidemark.phases.Phase',
      detail: `no domain phase for ${symbol}`,
    });
  }
  return phase;
}

/** Progress has the same fields (Int64 counters as bigint, null totals) in the domain and in the record. */
function copyProgress(p: PhaseProgress | AvroPhaseProgress): PhaseProgress & AvroPhaseProgress {
  const counters = (c: ProgressCounters) => ({
    docsCopied: c.docsCopied,
    docsTotal: c.docsTotal,
    bytesCopied: c.bytesCopied,
    bytesTotal: c.bytesTotal,
  });
  return {
    ...counters(p),
    namespaces: p.namespaces.map((n) => ({ namespace: n.namespace, ...counters(n) })),
  };
}

/** The `PhaseChanged` record of a phase report. */
export function phaseChangedOf(report: PhaseReport): PhaseChanged {
  return {
    jobId: report.jobId,
    syncId: report.syncId,
    phase: phaseToAvro(report.phase),
    stage: report.stage,
    progress: copyProgress(report.progress),
    appliedTs: report.appliedTs === undefined ? null : opTimeToAvroLong(report.appliedTs),
    sourceTs: report.sourceTs === undefined ? null : opTimeToAvroLong(report.sourceTs),
    at: report.at,
    details: { ...report.details },
  };
}

/** The phase report a `PhaseChanged` record carries. Throws `SchemaMismatchError` for a phase the domain lacks. */
export function phaseReportOf(record: PhaseChanged): PhaseReport {
  return {
    jobId: record.jobId,
    syncId: record.syncId,
    phase: phaseFromAvro(record.phase),
    stage: record.stage,
    progress: copyProgress(record.progress),
    appliedTs: record.appliedTs === null ? undefined : opTimeFromAvroLong(record.appliedTs),
    sourceTs: record.sourceTs === null ? undefined : opTimeFromAvroLong(record.sourceTs),
    details: { ...record.details },
    at: record.at,
  };
}

/**
 * The `PhaseReporter` port on Kafka: each report as a `PhaseChanged` on `tidemark.phases`, keyed by the topic's
 * rule (the job id), resolved once the broker acknowledged it on all in-sync replicas.
 */
export class KafkaPhaseReporter implements PhaseReporter {
  constructor(
    private readonly producer: Producer,
    private readonly topic: RecordTopic<'tidemark.phases.PhaseChanged'>,
  ) {}

  async report(report: PhaseReport): Promise<void> {
    await publish(this.producer, this.topic, phaseChangedOf(report));
  }
}
