/**
 * Audit events on the bus, the one mapping both ways: an `AuditEvent` of @tidemark/domain (outcome in lower case,
 * optional fields absent as `undefined`) as the Avro `AuditEvent` record (enum symbols in upper case, optional
 * fields null); and `KafkaAuditEventPublisher`, the domain's `AuditEventPublisher` port on `tidemark.audit`.
 */
import type { Producer } from 'kafkajs';
import {
  SchemaMismatchError,
  type AuditEvent,
  type AuditEventPublisher,
  type AuditOutcome,
} from '@tidemark/domain';
import { publish } from './kafka';
import type { RecordTopic } from './topics';
import type { AuditEvent as AuditEventRecord, AvroAuditOutcome } from './types';

const SCHEMA = 'tidemark.audit.AuditEvent';

const OUTCOME_TO_AVRO: Readonly<Record<AuditOutcome, AvroAuditOutcome>> = {
  accepted: 'ACCEPTED',
  refused: 'REFUSED',
};
const OUTCOME_FROM_AVRO: Readonly<Record<AvroAuditOutcome, AuditOutcome>> = {
  ACCEPTED: 'accepted',
  REFUSED: 'refused',
};

function statusOf(value: number): number {
  if (!Number.isInteger(value) || value < 100 || value > 599) {
    throw new SchemaMismatchError({ schemaName: SCHEMA, detail: `status ${value} is not an HTTP status` });
  }
  return value;
}

/** The `AuditEvent` record of an audit event. Throws `SchemaMismatchError` for a status that is not one. */
export function auditEventRecord(event: AuditEvent): AuditEventRecord {
  return {
    eventId: event.eventId,
    at: event.at,
    actor: event.actor,
    project: event.project ?? null,
    action: event.action,
    resource: { kind: event.resource.kind, id: event.resource.id ?? null },
    outcome: OUTCOME_TO_AVRO[event.outcome],
    status: statusOf(event.status),
    stateBefore: event.stateBefore ?? null,
    stateAfter: event.stateAfter ?? null,
    reason: event.reason ?? null,
    method: event.method,
    path: event.path,
    requestId: event.requestId,
    clientAddress: event.clientAddress ?? null,
  };
}

/** The audit event an `AuditEvent` record carries. Throws `SchemaMismatchError` for a status out of range. */
export function auditEventOf(record: AuditEventRecord): AuditEvent {
  return {
    eventId: record.eventId,
    at: record.at,
    actor: record.actor,
    project: record.project ?? undefined,
    action: record.action,
    resource: { kind: record.resource.kind, id: record.resource.id ?? undefined },
    outcome: OUTCOME_FROM_AVRO[record.outcome],
    status: statusOf(record.status),
    stateBefore: record.stateBefore ?? undefined,
    stateAfter: record.stateAfter ?? undefined,
    reason: record.reason ?? undefined,
    method: record.method,
    path: record.path,
    requestId: record.requestId,
    clientAddress: record.clientAddress ?? undefined,
  };
}

/**
 * Audit events as `AuditEvent` records on `tidemark.audit`, keyed by the topic's rule (the project, `-` for
 * none), resolved once the broker acknowledged them on all in-sync replicas.
 */
export class KafkaAuditEventPublisher implements AuditEventPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: RecordTopic<'tidemark.audit.AuditEvent'>,
  ) {}

  async publish(event: AuditEvent): Promise<void> {
    await publish(this.producer, this.topic, auditEventRecord(event));
  }
}
