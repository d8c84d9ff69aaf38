/**
 * `ConnectionsModule.forService(config, { source, backup, s3, extraTopics })`: opens the service's
 * connections at start-up and closes them at shutdown (`ConnectionRegistry`).
 *
 * - Kafka (always): a kafkajs client from `@tidemark/bus`; the service's topics are created or checked with
 *   `ensureTopics` (never broker auto-creation), then a long-lived admin client connects for health checks.
 * - `source` / `backup`: a connected `MongoClient` each (`@tidemark/mongo`).
 * - `s3`: an `S3Client` (`@tidemark/s3`); the snapshot bucket is ensured.
 * A connection that cannot be opened fails the start-up; the process exits 1 and the orchestrator retries.
 * The module is global: app modules inject the tokens of `tokens.ts` with `@Inject(TOKEN)`.
 */
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { createKafka, ensureTopics, type Topic } from '@tidemark/bus';
import { connectMongo } from '@tidemark/mongo';
import { createS3Client, ensureBucket } from '@tidemark/s3';
import { JsonLogger } from '../json-logger';
import type { ServiceConfig } from '../service-config';
import {
  BACKUP_MONGO,
  KAFKA,
  KAFKA_ADMIN,
  S3_CLIENT,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SOURCE_MONGO,
} from '../tokens';
import { ConnectionRegistry } from './connection-registry';
import { topicsUsedBy } from './service-topics';

export interface ConnectionsOptions {
  /** Connect to the source deployment. */
  readonly source?: boolean;
  /** Connect to the backup-side MongoDB. */
  readonly backup?: boolean;
  /** Create the S3 client and ensure the snapshot bucket. */
  readonly s3?: boolean;
  /** Topics to ensure besides those the bus declares for this service. */
  readonly extraTopics?: readonly Topic[];
}

@Module({})
export class ConnectionsModule {
  static forService(config: ServiceConfig, options: ConnectionsOptions = {}): DynamicModule {
    const topics = [...topicsUsedBy(config.topics, config.name), ...(options.extraTopics ?? [])];
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: SERVICE_LOGGER, useValue: new JsonLogger(config.name) },
      { provide: ConnectionRegistry, useClass: ConnectionRegistry },
      {
        provide: KAFKA,
        inject: [SERVICE_CONFIG],
        useFactory: (c: ServiceConfig) =>
          createKafka({
            brokers: c.endpoints.kafka.brokers,
            clientId: c.kafkaClientId,
            security: c.kafkaSecurity,
          }),
      },
      {
        provide: KAFKA_ADMIN,
        inject: [KAFKA, ConnectionRegistry, SERVICE_LOGGER],
        useFactory: async (kafka: Kafka, registry: ConnectionRegistry, logger: JsonLogger) => {
          const report = await ensureTopics(kafka, topics);
          logger.event({ event: 'topics-ensured', ...report });
          const admin = kafka.admin();
          await admin.connect();
          registry.add('kafka-admin', () => admin.disconnect());
          return admin;
        },
      },
    ];
    const exported: (symbol | typeof ConnectionRegistry)[] = [
      SERVICE_CONFIG,
      SERVICE_LOGGER,
      ConnectionRegistry,
      KAFKA,
      KAFKA_ADMIN,
    ];
    if (options.source) {
      providers.push(mongoProvider(SOURCE_MONGO, 'source-mongo', (c) => c.endpoints.source.uri));
      exported.push(SOURCE_MONGO);
    }
    if (options.backup) {
      providers.push(mongoProvider(BACKUP_MONGO, 'backup-mongo', (c) => c.endpoints.backup.uri));
      exported.push(BACKUP_MONGO);
    }
    if (options.s3) {
      providers.push({
        provide: S3_CLIENT,
        inject: [SERVICE_CONFIG, ConnectionRegistry, SERVICE_LOGGER],
        useFactory: async (c: ServiceConfig, registry: ConnectionRegistry, logger: JsonLogger) => {
          const client = createS3Client(c.endpoints.s3);
          registry.add('s3', async () => client.destroy());
          const created = await ensureBucket(client, c.endpoints.s3.bucket);
          logger.event({ event: 'bucket-ensured', bucket: c.endpoints.s3.bucket, created });
          return client;
        },
      });
      exported.push(S3_CLIENT);
    }
    return { module: ConnectionsModule, global: true, providers, exports: exported };
  }
}

function mongoProvider(token: symbol, name: string, uriOf: (c: ServiceConfig) => string): Provider {
  return {
    provide: token,
    inject: [SERVICE_CONFIG, ConnectionRegistry],
    useFactory: async (c: ServiceConfig, registry: ConnectionRegistry) => {
      const client = await connectMongo(uriOf(c), { appName: c.mongoAppName });
      registry.add(name, () => client.close());
      return client;
    },
  };
}
