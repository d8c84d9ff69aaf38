/**
 * Sends phase reports that cannot be decoded to `tidemark.phases.dlq` (original key, value and headers plus
 * the `tidemark-dlq-*` headers, `deadLetter` of `@tidemark/bus`), through an idempotent producer that
 * job-state opens at start-up and closes at shutdown.
 */
import type { Producer } from 'kafkajs';
import { deadLetter, type DeliveredMessage } from '@tidemark/bus';
import type { JsonLogger } from '@tidemark/shell';
import type { PhaseDeadLetterSink } from './phase-deserializer';
import type { PhasesTopics } from './phases-topics';

export class PhaseDeadLetters implements PhaseDeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly topics: PhasesTopics,
    private readonly logger: JsonLogger,
  ) {}

  /** Resolves once the dead letter is acknowledged by all in-sync replicas; only then may the offset move. */
  async send(delivered: DeliveredMessage, reason: string): Promise<void> {
    const meta = await deadLetter(this.producer, this.topics.phases, delivered, reason);
    this.logger.event({
      event: 'dead-lettered',
      topic: this.topics.phases.name,
      partition: delivered.partition,
      offset: delivered.message.offset,
      deadLetterTopic: this.topics.deadLetter.name,
      deadLetterOffset: meta.baseOffset ?? meta.offset,
      reason,
    });
  }
}
