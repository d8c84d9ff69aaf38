/**
 * The apply loop's bus ports on Kafka: phase reports (`tidemark.phases`), FETCH_MISSING_DOCUMENTS commands
 * (`tidemark.commands`) and alerts (`tidemark.alerts`), each keyed by job id and resolved once Kafka acknowledged
 * it on all in-sync replicas (`publish` of `@tidemark/bus`; failures are `KafkaOperationError`s, retriable as
 * kafkajs says).
 */
import type { Producer } from 'kafkajs';
import type { AlertPublisher, CommandPublisher, PhaseReporter } from '@tidemark/apply';
import {
  alertRaisedRecord,
  jobKey,
  opTimeToAvroLong,
  phaseToAvro,
  publish,
  type Topics,
} from '@tidemark/bus';

const STAGE = 'oplog-applier';

export function busPorts(
  producer: Producer,
  topics: Topics,
): { phases: PhaseReporter; commands: CommandPublisher; alerts: AlertPublisher } {
  return {
    phases: {
      report: async (r) => {
        await publish(producer, topics.phases, jobKey(r.jobId), {
          jobId: r.jobId,
          syncId: r.syncId,
          phase: phaseToAvro(r.phase),
          stage: STAGE,
          progress: { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
          appliedTs: opTimeToAvroLong(r.appliedTs),
          sourceTs: r.sourceTs === undefined ? null : opTimeToAvroLong(r.sourceTs),
          at: new Date(),
          details: { ...r.details },
        });
      },
    },
    commands: {
      fetchMissingDocuments: async (c) => {
        await publish(producer, topics.commands, jobKey(c.jobId), {
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
        await publish(producer, topics.alerts, topics.alerts.keyOf(record), record);
      },
    },
  };
}
