/**
 * Options of the Nest Kafka microservice that consumes the topics job-state folds (`tidemark.phases`,
 * `tidemark.alerts`; one consumer, subscribed to the topics the handlers name):
 * - consumer group `tidemark-job-state` (`<prefix>.tidemark-job-state` under a topic prefix), no `-server`
 *   suffix, never auto-creating topics, fetch sizes from the bus;
 * - reads from the beginning when the group is new;
 * - `autoCommit: false`: each handler commits its offset after the fold is durable;
 * - `keepBinary` so the Avro bytes reach the deserializer untouched.
 * Client settings (timeouts, retries, log levels) are the bus's (`DEFAULT_RETRY`, `kafkaLogCreator`), as
 * `createKafka` sets them; kafkajs's lines go through the service's logger.
 */
import type { KafkaOptions } from '@nestjs/microservices';
import { Transport } from '@nestjs/microservices';
import { logLevel } from 'kafkajs';
import { DEFAULT_RETRY, fetchSizesFor, kafkaLogCreator } from '@tidemark/bus';
import type { JsonLogger, ServiceConfig } from '@tidemark/service-shell';
import type { EventDeserializer, EventTopics } from './event-deserializer';

export function eventsTransport(
  config: ServiceConfig,
  topics: EventTopics,
  deserializer: EventDeserializer,
  logger: JsonLogger,
): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      postfixId: '',
      client: {
        clientId: `${config.kafkaClientId}-events`,
        brokers: [...config.endpoints.kafka.brokers],
        logLevel: logLevel.WARN,
        // kafkajs's lines through the service's logger, a self-healing broker error as a warning (kafka-log.ts).
        logCreator: kafkaLogCreator((level, fields) => {
          const { message, ...rest } = fields;
          delete rest['timestamp']; // the service logger stamps its own time
          delete rest['logger'];
          logger.eventAt(level === 'debug' ? 'info' : level, { context: 'kafkajs', msg: message, ...rest });
        }),
        connectionTimeout: 3_000,
        requestTimeout: 30_000,
        retry: { ...DEFAULT_RETRY },
      },
      consumer: {
        groupId: config.consumerGroup,
        allowAutoTopicCreation: false,
        sessionTimeout: 30_000,
        heartbeatInterval: 3_000,
        ...fetchSizesFor([topics.phases, topics.alerts]),
      },
      producer: { allowAutoTopicCreation: false },
      subscribe: { fromBeginning: true },
      run: { autoCommit: false },
      parser: { keepBinary: true },
      deserializer,
    },
  };
}
