/** The port snapshot events are reported through (on Kafka: `KafkaSnapshotEventPublisher` of @tidemark/bus). */
import type { SnapshotEvent } from '../snapshot-event';

/**
 * Sends snapshot events to job-state (`tidemark.snapshots`, keyed by job id, so one job's events stay in order);
 * resolves once the event is durable on the bus. Publishing the same event again is harmless (consumers fold it
 * idempotently), so a caller that does not know whether a publish succeeded publishes again.
 */
export interface SnapshotEventPublisher {
  publish(event: SnapshotEvent): Promise<void>;
}
