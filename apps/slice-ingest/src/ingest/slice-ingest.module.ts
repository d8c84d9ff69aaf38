/**
 * Wires the ingest step: the oplog store (indexes ensured at start-up), one idempotent producer, the
 * `SliceIngestor` over the bus codec and the slice checks, and the consumer loop. Global, so the `pipeline`
 * readiness check can inject the consumer. The producer and the consumer register with the shell's
 * `ConnectionRegistry`, which closes the consumer first at shutdown (in-flight messages finish, nothing more is
 * read), then the producer, then the stores.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { consumerFor, producerFor } from '@tidemark/bus';
import { SliceIngestor } from '@tidemark/ingest';
import { classifyMongoError } from '@tidemark/mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import {
  BACKUP_MONGO,
  ConnectionRegistry,
  KAFKA,
  KAFKA_ADMIN,
  SERVICE_LOGGER,
  type DependencyCheckProvider,
  type JsonLogger,
  type ServiceConfig,
} from '@tidemark/shell';
import { decodeCatalog, decodeSlicePayload } from '@tidemark/slices';
import { busSliceCodec } from './bus-slice-codec';
import type { IngestSettings } from './ingest-settings';
import { KafkaClaimChecks } from './kafka-claim-checks';
import { PartitionBackoff } from './partition-backoff';
import { SliceIngestConsumer, type SliceIngestHooks } from './slice-ingest-consumer';
import { INGEST_PRODUCER, INGEST_SETTINGS, OPLOG_STORE, SLICE_INGEST_CONSUMER } from './tokens';

@Module({})
export class SliceIngestModule {
  static forRoot(
    config: ServiceConfig,
    settings: IngestSettings,
    hooks: SliceIngestHooks = {},
  ): DynamicModule {
    const { slicesInitial, slicesOplog, slicesStored, alerts } = config.topics;
    return {
      module: SliceIngestModule,
      global: true,
      providers: [
        { provide: INGEST_SETTINGS, useValue: settings },
        {
          provide: OPLOG_STORE,
          inject: [BACKUP_MONGO, SERVICE_LOGGER],
          useFactory: async (client: MongoClient, logger: JsonLogger) => {
            const store = new MongoOplogStore(client, settings.oplogStoreDb);
            await store.init();
            logger.event({ event: 'oplog-store-ready', db: settings.oplogStoreDb });
            return store;
          },
        },
        {
          provide: INGEST_PRODUCER,
          // KAFKA_ADMIN: topics are ensured before anything is sent.
          inject: [KAFKA, KAFKA_ADMIN, ConnectionRegistry],
          useFactory: async (kafka: Kafka, _admin: Admin, registry: ConnectionRegistry) => {
            const producer = producerFor(kafka);
            await producer.connect();
            registry.add('slice-ingest-producer', () => producer.disconnect());
            return producer;
          },
        },
        {
          provide: SLICE_INGEST_CONSUMER,
          inject: [KAFKA, ConnectionRegistry, SERVICE_LOGGER, OPLOG_STORE, INGEST_PRODUCER],
          useFactory: async (
            kafka: Kafka,
            registry: ConnectionRegistry,
            logger: JsonLogger,
            oplogStore: MongoOplogStore,
            producer: Producer,
          ) => {
            const ingestor = new SliceIngestor({
              codec: busSliceCodec(),
              payloadChecks: { decodePayload: decodeSlicePayload, decodeCatalog },
              oplogStore,
              classifyStoreError: classifyMongoError,
              claimChecks: new KafkaClaimChecks(producer, slicesStored),
              topicKinds: { [slicesInitial.name]: ['initial', 'catalog'], [slicesOplog.name]: ['oplog'] },
              limits: settings.limits,
            });
            const worker = new SliceIngestConsumer({
              consumer: consumerFor(kafka, {
                groupId: config.consumerGroup,
                topics: [slicesInitial, slicesOplog],
              }),
              producer,
              ingestor,
              topics: { slicesInitial, slicesOplog, alerts },
              logger,
              concurrency: settings.concurrency,
              backoff: new PartitionBackoff(settings.retryInitialMs, settings.retryMaxMs),
              hooks,
            });
            registry.add('slice-ingest-consumer', () => worker.stop());
            await worker.start();
            return worker;
          },
        },
      ],
      exports: [SLICE_INGEST_CONSUMER],
    };
  }
}

/**
 * `pipeline` readiness check: fails while a partition is halted by a fatal error or the Kafka consumer stopped,
 * with the reason, so the service reports not-ready instead of silently making no progress.
 */
export function pipelineCheck(): DependencyCheckProvider {
  return {
    name: 'pipeline',
    inject: [SLICE_INGEST_CONSUMER],
    create: (consumer: SliceIngestConsumer) => async () => {
      const problems = consumer.problems();
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
  };
}
