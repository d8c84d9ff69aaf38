/**
 * The `CommandPublisher` of `@tidemark/jobs` over Kafka: JobCommand on `tidemark.commands` and job-state's own
 * PhaseChanged on `tidemark.phases`, both keyed by job id (per-job order), through the idempotent producer with
 * `acks: -1` (`publish` of `@tidemark/bus`). Failures surface as the bus's `KafkaOperationError`, retriable or not.
 */
import type { Producer } from 'kafkajs';
import { phaseChangedOf, publish, type RecordTopic } from '@tidemark/bus';
import type { PhaseReport } from '@tidemark/domain';
import type { CommandPublisher, JobCommandMessage } from '@tidemark/jobs';
import { jobCommandOf } from './avro-mapping';

export class KafkaCommandPublisher implements CommandPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly commands: RecordTopic<'tidemark.commands.JobCommand'>,
    private readonly phases: RecordTopic<'tidemark.phases.PhaseChanged'>,
  ) {}

  async publishCommand(command: JobCommandMessage): Promise<void> {
    const record = jobCommandOf(command);
    await publish(this.producer, this.commands, record);
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    const record = phaseChangedOf(report);
    await publish(this.producer, this.phases, record);
  }
}
