/**
 * An alert (`@tidemark/domain`) as the bus carries it, `AlertRaised`, and back (job-state's lifecycle as
 * `state` OPEN / CLOSED with `subject`, `closedAt`, `closeReason`; a stage's raise with `state` null); and `KafkaAlertPublisher`, the
 * `AlertPublisher` port of `@tidemark/head-database` on `tidemark.alerts`.
 */
import type { Producer } from 'kafkajs';
import type { Alert, AlertLifecycle, AlertSeverity } from '@tidemark/domain';
import type { AlertPublisher } from '@tidemark/head-database';
import { publish } from './kafka';
import type { RecordTopic } from './topics';
import type { AlertRaised, AvroAlertSeverity, AvroAlertState } from './types';

const TO_AVRO: Readonly<Record<AlertSeverity, AvroAlertSeverity>> = {
  info: 'INFO',
  warning: 'WARNING',
  critical: 'CRITICAL',
};
const FROM_AVRO: Readonly<Record<AvroAlertSeverity, AlertSeverity>> = {
  INFO: 'info',
  WARNING: 'warning',
  CRITICAL: 'critical',
};

/** The `AlertRaised` record of an alert. */
export function alertRaisedRecord(alert: Alert): AlertRaised {
  return {
    alertId: alert.alertId,
    jobId: alert.jobId,
    severity: TO_AVRO[alert.severity],
    code: alert.code,
    message: alert.message,
    context: { ...alert.context },
    at: alert.at,
    state: alert.lifecycle === undefined ? null : alert.lifecycle.state === 'open' ? 'OPEN' : 'CLOSED',
    subject: alert.lifecycle?.subject ?? null,
    closedAt: alert.lifecycle?.closedAt ?? null,
    closeReason: alert.lifecycle?.closeReason ?? null,
  };
}

/** The alert an `AlertRaised` record carries. */
export function alertOfRecord(record: AlertRaised): Alert {
  return {
    alertId: record.alertId,
    jobId: record.jobId,
    severity: FROM_AVRO[record.severity],
    code: record.code,
    message: record.message,
    context: { ...record.context },
    at: record.at,
    ...(record.state === null ? {} : { lifecycle: lifecycleOf(record, record.state) }),
  };
}

function lifecycleOf(record: AlertRaised, state: AvroAlertState): AlertLifecycle {
  return {
    state: state === 'OPEN' ? 'open' : 'closed',
    subject: record.subject ?? '',
    ...(record.closedAt === null ? {} : { closedAt: record.closedAt }),
    ...(record.closeReason === null ? {} : { closeReason: record.closeReason }),
  };
}

/**
 * Alerts as `AlertRaised` on `tidemark.alerts`, keyed by the topic's rule, resolved once the broker acknowledged
 * them on all in-sync replicas.
 */
export class KafkaAlertPublisher implements AlertPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: RecordTopic<'tidemark.alerts.AlertRaised'>,
  ) {}

  async raise(alert: Alert): Promise<void> {
    await publish(this.producer, this.topic, alertRaisedRecord(alert));
  }
}
