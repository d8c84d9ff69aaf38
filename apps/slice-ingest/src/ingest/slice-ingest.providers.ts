/**
 * The ingest step's providers: the oplog store (indexes ensured at start-up), one idempotent producer, the
 * `SliceIngestor` over the bus codec and the slice checks, and the bus's `CommittingConsumer` running the
 * `SliceIngestHandler`. The producer and the consumer register with the shell's `ConnectionRegistry`, which closes
 * the consumer first at shutdown (in-flight messages finish, nothing more is read), then the producer, then the
 * stores.
 */
import type { Provider } from '@nestjs/common';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import {
  busSliceCodec,
  CommittingConsumer,
  KafkaClaimChecks,
  PartitionBackoff,
  rawMessage,
} from '@tidemark/bus';
import { SliceIngestor } from '@tidemark/ingest';
import { classifyMongoError } from '@tidemark/mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import {
  BACKUP_MONGO,
  ConnectionRegistry,
  connectedProducer,
  isRetriableError,
  KAFKA,
  KAFKA_ADMIN,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type JsonLogger,
  type ServiceConfig,
  type ServiceMetrics,
} from '@tidemark/service-shell';
import { decodeCatalog, decodeSlicePayload } from '@tidemark/slices';
import { PARTITION_RETRY } from '@tidemark/util';
import type { IngestSettings } from './ingest-settings';
import { SliceIngestHandler, type SliceIngestHooks } from './slice-ingest-handler';
import { INGEST_PRODUCER, INGEST_SETTINGS, OPLOG_STORE, SLICE_INGEST_CONSUMER } from './tokens';

export function sliceIngestProviders(
  config: ServiceConfig,
  settings: IngestSettings,
  hooks: SliceIngestHooks = {},
): Provider[] {
  const { slicesInitial, slicesOplog, slicesStored, alerts } = config.topics;
  return [
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
      useFactory: (kafka: Kafka, _admin: Admin, registry: ConnectionRegistry) =>
        connectedProducer(kafka, registry, 'slice-ingest-producer'),
    },
    {
      provide: SLICE_INGEST_CONSUMER,
      inject: [KAFKA, ConnectionRegistry, SERVICE_LOGGER, OPLOG_STORE, INGEST_PRODUCER, SERVICE_METRICS],
      useFactory: async (
        kafka: Kafka,
        registry: ConnectionRegistry,
        logger: JsonLogger,
        oplogStore: MongoOplogStore,
        producer: Producer,
        metrics: ServiceMetrics,
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
        const handler = new SliceIngestHandler({
          producer,
          ingestor,
          topics: { slicesInitial, slicesOplog, alerts },
          logger,
          metrics,
          hooks,
        });
        const consumer = new CommittingConsumer({
          kafka,
          groupId: config.consumerGroup,
          topics: handler.topics,
          // Decoding is the first of the slice checks (@tidemark/ingest): a slice failing any of them is
          // dead-lettered with an alert by the handler, so the loop hands it the message as it came.
          decode: rawMessage,
          handle: (m) => handler.handle(m),
          producer,
          isRetriable: isRetriableError,
          log: (level, fields) => logger.eventAt(level, fields),
          metrics,
          partitionsConsumedConcurrently: settings.concurrency,
          backoff: new PartitionBackoff(
            PARTITION_RETRY.with({ initialMs: settings.retryInitialMs, maxMs: settings.retryMaxMs }),
          ),
        });
        registry.add('slice-ingest-consumer', () => consumer.stop());
        await consumer.start();
        return consumer;
      },
    },
  ];
}
