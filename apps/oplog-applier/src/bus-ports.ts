/**
 * The apply loop's bus ports, wired from `@tidemark/bus`'s adapters: phase reports (`tidemark.phases`),
 * FETCH_MISSING_DOCUMENTS commands (`tidemark.commands`) and alerts (`tidemark.alerts`), each keyed by job id and
 * resolved once Kafka acknowledged it on all in-sync replicas (failures are `KafkaOperationError`s, retriable as
 * kafkajs says).
 */
import type { Producer } from 'kafkajs';
import type { PhaseReporter } from '@tidemark/domain';
import type { AlertPublisher, CommandPublisher } from '@tidemark/head-database';
import {
  KafkaAlertPublisher,
  KafkaFetchCommandPublisher,
  KafkaPhaseReporter,
  type Topics,
} from '@tidemark/bus';

export function busPorts(
  producer: Producer,
  topics: Topics,
): { phases: PhaseReporter; commands: CommandPublisher; alerts: AlertPublisher } {
  return {
    phases: new KafkaPhaseReporter(producer, topics.phases),
    commands: new KafkaFetchCommandPublisher(producer, topics.commands),
    alerts: new KafkaAlertPublisher(producer, topics.alerts),
  };
}
