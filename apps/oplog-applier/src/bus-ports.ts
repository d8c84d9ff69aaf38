/**
 * The apply loop's bus ports on Kafka: phase reports (`tidemark.phases`), FETCH_MISSING_DOCUMENTS commands
 * (`tidemark.commands`) and alerts (`tidemark.alerts`), each keyed by job id and resolved once Kafka acknowledged
 * it on all in-sync replicas (`publish` of `@tidemark/bus`; failures are `KafkaOperationError`s, retriable as
 * kafkajs says).
 */
import type { Producer } from 'kafkajs';
import type { PhaseReporter } from '@tidemark/domain';
import type { AlertPublisher, CommandPublisher } from '@tidemark/head-database';
import { alertRaisedRecord, KafkaPhaseReporter, publish, type Topics } from '@tidemark/bus';

export function busPorts(
  producer: Producer,
  topics: Topics,
): { phases: PhaseReporter; commands: CommandPublisher; alerts: AlertPublisher } {
  return {
    phases: new KafkaPhaseReporter(producer, topics.phases),
    commands: {
      fetchMissingDocuments: async (c) => {
        await publish(producer, topics.commands, {
          commandId: c.commandId,
          jobId: c.jobId,
          action: 'FETCH_MISSING_DOCUMENTS',
          issuedAt: new Date(),
          params: {
            syncId: c.syncId,
            batch: String(c.batch),
            batches: String(c.batches),
            ns: c.ns,
            ids: c.ids,
          },
        });
      },
    },
    alerts: {
      raise: async (a) => {
        const record = alertRaisedRecord(a);
        await publish(producer, topics.alerts, record);
      },
    },
  };
}
