/**
 * Starts job-state: a hybrid Nest application serving the REST API and probes over HTTP and consuming
 * `tidemark.phases` through the Nest Kafka transport. `main.ts` runs it; the integration test runs it
 * in-process with its own topic prefix and meta database.
 */
import type { INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { defaultCodec } from '@tidemark/bus';
import { bootstrapService, loadServiceConfig, type RunningService } from '@tidemark/shell';
import { AppModule } from './app.module';
import type { PhaseDeadLetters } from './phases/phase-dead-letters';
import { PhaseDeserializer } from './phases/phase-deserializer';
import { phasesTopics } from './phases/phases-topics';
import { phasesTransport } from './phases/phases-transport';
import { PHASE_DEAD_LETTERS } from './tokens';

export async function startJobState(env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const config = loadServiceConfig('job-state', env);
  const topics = phasesTopics(config, env);
  return bootstrapService({
    name: 'job-state',
    module: AppModule.forRoot(config, topics),
    env,
    configure: (app: INestApplication) => {
      const deserializer = new PhaseDeserializer(
        defaultCodec(),
        app.get<PhaseDeadLetters>(PHASE_DEAD_LETTERS),
      );
      app.connectMicroservice<MicroserviceOptions>(phasesTransport(config, topics.phases, deserializer));
    },
  });
}
