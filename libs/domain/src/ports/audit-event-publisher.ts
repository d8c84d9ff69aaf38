/** The port audit events are published through (on Kafka: `KafkaAuditEventPublisher` of @tidemark/bus). */
import type { AuditEvent } from '../audit-event';

/**
 * Publishes audit events (`tidemark.audit`, keyed by project); resolves once the event is durable on the bus.
 * Publishing the same event again is harmless (consumers keep one per `eventId`).
 */
export interface AuditEventPublisher {
  publish(event: AuditEvent): Promise<void>;
}
