/**
 * The command publishers on Kafka: `JobCommand` records on `tidemark.commands`, keyed by job id (per-job order),
 * through the idempotent producer with `acks: -1` (`publish`). Failures surface as the bus's `KafkaOperationError`,
 * retriable or not.
 * - `KafkaCommandPublisher`: the `CommandPublisher` of `@tidemark/jobs` (job-state's commands, and its own
 *   PhaseChanged on `tidemark.phases` through `KafkaPhaseReporter`);
 * - `KafkaFetchCommandPublisher`: the `CommandPublisher` of `@tidemark/head-database` (the oplog-applier's
 *   FETCH_MISSING_DOCUMENTS).
 */
import type { Producer } from 'kafkajs';
import type { PhaseReport } from '@tidemark/domain';
import type {
  CommandPublisher as FetchCommandPublisher,
  FetchMissingDocumentsCommand,
} from '@tidemark/head-database';
import type { CommandPublisher, JobCommandMessage } from '@tidemark/jobs';
import { fetchMissingDocumentsRecord, jobCommandOf } from './command-mapping';
import { publish } from './kafka';
import { KafkaPhaseReporter } from './phase-mapping';
import type { RecordTopic } from './topics';

export class KafkaCommandPublisher implements CommandPublisher {
  private readonly phases: KafkaPhaseReporter;

  constructor(
    private readonly producer: Producer,
    private readonly commands: RecordTopic<'tidemark.commands.JobCommand'>,
    phases: RecordTopic<'tidemark.phases.PhaseChanged'>,
  ) {
    this.phases = new KafkaPhaseReporter(producer, phases);
  }

  async publishCommand(command: JobCommandMessage): Promise<void> {
    const record = jobCommandOf(command);
    await publish(this.producer, this.commands, record);
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    await this.phases.report(report);
  }
}

export class KafkaFetchCommandPublisher implements FetchCommandPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly commands: RecordTopic<'tidemark.commands.JobCommand'>,
  ) {}

  async fetchMissingDocuments(command: FetchMissingDocumentsCommand): Promise<void> {
    await publish(this.producer, this.commands, fetchMissingDocumentsRecord(command, new Date()));
  }
}
