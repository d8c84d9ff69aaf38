/**
 * Options of the Nest Kafka microservice that consumes `tidemark.phases`:
 * - consumer group `tidemark-job-state` (`<prefix>.tidemark-job-state` under a topic prefix), no `-server`
 *   suffix, never auto-creating topics, fetch sizes from the bus;
 * - reads from the beginning when the group is new (the job views are rebuilt from the topic);
 * - `autoCommit: false`: the handler commits each offset after the view write is acknowledged;
 * - `keepBinary` so the Avro bytes reach the deserializer untouched.
 * Client settings (timeouts, retries) are the bus's (`DEFAULT_RETRY`), as `createKafka` sets them.
 */
import type { KafkaOptions } from '@nestjs/microservices';
import { Transport } from '@nestjs/microservices';
import { logLevel } from 'kafkajs';
import { DEFAULT_RETRY, fetchSizesFor, type Topic } from '@tidemark/bus';
import type { ServiceConfig } from '@tidemark/shell';
import type { PhaseDeserializer } from './phase-deserializer';

export function phasesTransport(
  config: ServiceConfig,
  phases: Topic,
  deserializer: PhaseDeserializer,
): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      postfixId: '',
      client: {
        clientId: `${config.kafkaClientId}-phases`,
        brokers: [...config.endpoints.kafka.brokers],
        logLevel: logLevel.WARN,
        connectionTimeout: 3_000,
        requestTimeout: 30_000,
        retry: { ...DEFAULT_RETRY },
      },
      consumer: {
        groupId: config.consumerGroup,
        allowAutoTopicCreation: false,
        sessionTimeout: 30_000,
        heartbeatInterval: 3_000,
        ...fetchSizesFor([phases]),
      },
      producer: { allowAutoTopicCreation: false },
      subscribe: { fromBeginning: true },
      run: { autoCommit: false },
      parser: { keepBinary: true },
      deserializer,
    },
  };
}
