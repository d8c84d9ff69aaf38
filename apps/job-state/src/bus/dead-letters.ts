/**
 * Sends messages job-state cannot decode to their topic's dead-letter topic (`tidemark.phases.dlq`): original key,
 * value and headers plus the `tidemark-dlq-*` headers (`deadLetter` of `@tidemark/bus`), through an idempotent
 * producer that job-state opens at start-up and closes at shutdown.
 */
import type { Producer } from 'kafkajs';
import { deadLetter, type DeliveredMessage, type Topic } from '@tidemark/bus';
import type { JsonLogger } from '@tidemark/service-shell';
import type { DeadLetterSink } from './event-deserializer';

export class KafkaDeadLetters implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly logger: JsonLogger,
  ) {}

  /** Resolves once the dead letter is acknowledged by all in-sync replicas; only then may the offset move. */
  async send(topic: Topic, delivered: DeliveredMessage, reason: string): Promise<void> {
    const meta = await deadLetter(this.producer, topic, delivered, reason);
    this.logger.event({
      event: 'dead-lettered',
      topic: topic.name,
      partition: delivered.partition,
      offset: delivered.message.offset,
      deadLetterTopic: topic.deadLetterName,
      deadLetterOffset: meta.baseOffset ?? meta.offset,
      reason,
    });
  }
}
