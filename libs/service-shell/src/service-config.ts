/**
 * Everything a service shell reads from its environment, resolved once at start-up.
 */
import { kafkaSecurityFromEnv, resolveTopics, type KafkaSecurity, type Topics } from '@tidemark/bus';
import { resolveEndpoints, type Endpoints } from '@tidemark/config';
import { integerSetting } from '@tidemark/util';
import type { ServiceName } from './service-name';

export interface ServiceConfig {
  readonly name: ServiceName;
  /** Kafka, source, backup and S3 endpoints (`resolveEndpoints()`). */
  readonly endpoints: Endpoints;
  /** `TIDEMARK_TOPIC_PREFIX`, default '': topics are named `<prefix>.<base>` (isolates tests and tenants). */
  readonly topicPrefix: string;
  /** Every declared topic with its concrete name and partitions (`resolveTopics` of `@tidemark/bus`). */
  readonly topics: Topics;
  /** Database for Tidemark's own metadata (job views, ...): `TIDEMARK_META_DB`, default `tidemark_meta`. */
  readonly metaDb: string;
  /** Per-dependency limit of a readiness check: `TIDEMARK_READY_TIMEOUT_MS`, default 3000. */
  readonly readyTimeoutMs: number;
  /** TLS and SASL of the Kafka connections: `TIDEMARK_KAFKA_TLS*`, `TIDEMARK_KAFKA_SASL_*` (see `@tidemark/bus`). */
  readonly kafkaSecurity: KafkaSecurity;
  /** Kafka client id: `<KAFKA_CLIENT_ID_PREFIX>-<service>`. */
  readonly kafkaClientId: string;
  /** Kafka consumer group of this service: `tidemark-<service>`, or `<prefix>.tidemark-<service>`. */
  readonly consumerGroup: string;
  /** Application name reported to MongoDB. */
  readonly mongoAppName: string;
}

export class ServiceConfigError extends Error {
  override readonly name = 'ServiceConfigError';
}

/** An integer setting in [min, max] from `env[name]`, `fallback` when unset or blank; `ServiceConfigError` otherwise. */
export function intFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return integerSetting(env, name, { fallback, min, max }, (message) => new ServiceConfigError(message));
}

/** Reads the service configuration; throws `ServiceConfigError`/`EndpointConfigError` naming the bad variable. */
export function loadServiceConfig(name: ServiceName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const endpoints = resolveEndpoints(env);
  const topicPrefix = env['TIDEMARK_TOPIC_PREFIX'] ?? '';
  const metaDb = env['TIDEMARK_META_DB'] || 'tidemark_meta';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(metaDb)) {
    throw new ServiceConfigError(`TIDEMARK_META_DB is not a valid database name: ${JSON.stringify(metaDb)}`);
  }
  return {
    name,
    endpoints,
    topicPrefix,
    topics: resolveTopics({ prefix: topicPrefix, env }),
    metaDb,
    readyTimeoutMs: intFromEnv(env, 'TIDEMARK_READY_TIMEOUT_MS', 3_000, 100, 60_000),
    kafkaSecurity: kafkaSecurityFromEnv(env),
    kafkaClientId: `${endpoints.kafka.clientIdPrefix}-${name}`,
    consumerGroup: topicPrefix === '' ? `tidemark-${name}` : `${topicPrefix}.tidemark-${name}`,
    mongoAppName: `tidemark-${name}`,
  };
}
