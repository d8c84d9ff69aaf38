/** The port every stage reports its phases through (implemented on Kafka by `KafkaPhaseReporter` of @tidemark/bus). */
import type { PhaseReport } from '../phase-report';

/** Sends phase reports to job-state (`tidemark.phases`); resolves once the report is durable on the bus. */
export interface PhaseReporter {
  report(report: PhaseReport): Promise<void>;
}
