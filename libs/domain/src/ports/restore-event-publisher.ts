/** The port restore events are reported through (on Kafka: `KafkaRestoreEventPublisher` of @tidemark/bus). */
import type { RestoreEvent } from '../restore-event';

/**
 * Publishes restore events (`tidemark.restores`, keyed by job id, so one job's events stay in order); resolves once
 * the event is durable on the bus. Publishing the same event again is harmless (each carries the whole summary).
 */
export interface RestoreEventPublisher {
  publish(event: RestoreEvent): Promise<void>;
}
