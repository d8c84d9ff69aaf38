/**
 * `MetricsModule.forService(name)` (global): the process's `ServiceMetrics` (token `SERVICE_METRICS`, one
 * registry per service) and `GET /metrics`. `bootstrapService` mounts it in every service, so apps only inject
 * `SERVICE_METRICS` to feed it. Where the service has a Kafka admin and consumes topics (`ConnectionsModule`), the
 * consumer lag of its group on every topic the bus declares it consumes is read on each scrape.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { consumerLag, topicList } from '@tidemark/bus';
import type { JsonLogger } from '../json-logger';
import type { ServiceConfig } from '../service-config';
import type { ServiceName } from '../service-name';
import { KAFKA_ADMIN, SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS } from '../tokens';
import { MetricsController } from './metrics.controller';
import { ServiceMetrics } from './service-metrics';

@Module({})
export class MetricsModule {
  static forService(name: ServiceName): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        {
          provide: SERVICE_METRICS,
          inject: [
            { token: SERVICE_CONFIG, optional: true },
            { token: KAFKA_ADMIN, optional: true },
            { token: SERVICE_LOGGER, optional: true },
          ],
          useFactory: (config?: ServiceConfig, admin?: Admin, logger?: JsonLogger) => {
            const metrics = new ServiceMetrics(name, (what, error) =>
              logger?.event({ event: 'metrics-collect-failed', what, error }),
            );
            if (config !== undefined && admin !== undefined) {
              const consumed = topicList(config.topics)
                .filter((t) => t.consumers.includes(name))
                .map((t) => t.name);
              if (consumed.length > 0) {
                metrics.watchConsumerLag(() => consumerLag(admin, config.consumerGroup, consumed));
              }
            }
            return metrics;
          },
        },
      ],
      exports: [SERVICE_METRICS],
    };
  }
}
