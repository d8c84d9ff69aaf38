/**
 * Starts job-state: a hybrid Nest application serving the REST API and probes over HTTP and consuming
 * `tidemark.phases` and `tidemark.alerts` through the Nest Kafka transport. `main.ts` runs it; the integration
 * tests run it in-process with their own topic prefix and databases.
 */
import type { INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { defaultCodec } from '@tidemark/bus';
import { DEFAULT_OPLOG_STORE_DB } from '@tidemark/oplog-store';
import {
  bootstrapService,
  intFromEnv,
  loadServiceConfig,
  SERVICE_LOGGER,
  type JsonLogger,
  type RunningService,
} from '@tidemark/service-shell';
import { AppModule, type JobStateSettings } from './app.module';
import type { KafkaDeadLetters } from './bus/dead-letters';
import { EventDeserializer } from './bus/event-deserializer';
import { eventsTransport } from './bus/events-transport';
import { DEFAULT_EFFECTS_FLUSH_MS } from './jobs/effects-flusher';
import { DEAD_LETTERS } from './tokens';

export async function startJobState(env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const config = loadServiceConfig('job-state', env);
  const settings: JobStateSettings = {
    topics: { phases: config.topics.phases, alerts: config.topics.alerts },
    oplogStoreDb: env['TIDEMARK_OPLOG_STORE_DB'] || DEFAULT_OPLOG_STORE_DB,
    effectsFlushMs: intFromEnv(env, 'TIDEMARK_EFFECTS_FLUSH_MS', DEFAULT_EFFECTS_FLUSH_MS, 100, 3_600_000),
  };
  return bootstrapService({
    name: 'job-state',
    module: AppModule.forRoot(config, settings),
    env,
    configure: (app: INestApplication) => {
      const deserializer = new EventDeserializer(
        defaultCodec(),
        settings.topics,
        app.get<KafkaDeadLetters>(DEAD_LETTERS),
      );
      app.connectMicroservice<MicroserviceOptions>(
        eventsTransport(config, settings.topics, deserializer, app.get<JsonLogger>(SERVICE_LOGGER)),
      );
    },
  });
}
