/**
 * Wiring of job-state: connections (Kafka, backup MongoDB), health probes, the job views, the REST API,
 * the phases handler and the dead-letter producer. The Kafka microservice itself is connected in
 * `job-state-service.ts`.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { producerFor } from '@tidemark/bus';
import {
  BACKUP_MONGO,
  ConnectionRegistry,
  ConnectionsModule,
  HealthModule,
  KAFKA,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  kafkaCheck,
  mongoCheck,
  type JsonLogger,
  type ServiceConfig,
} from '@tidemark/shell';
import { JobsController } from './jobs/jobs.controller';
import { JobViews } from './jobs/job-views';
import { PhaseDeadLetters } from './phases/phase-dead-letters';
import { phaseEventsController } from './phases/phase-events.controller';
import type { PhasesTopics } from './phases/phases-topics';
import { PHASE_DEAD_LETTERS, PHASES_TOPICS } from './tokens';

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig, topics: PhasesTopics): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, {
          backup: true,
          extraTopics: topics.derived ? [topics.deadLetter] : [],
        }),
        HealthModule.forDependencies([kafkaCheck('phases'), mongoCheck('backup')]),
      ],
      controllers: [JobsController, phaseEventsController(topics.phases.name)],
      providers: [
        { provide: PHASES_TOPICS, useValue: topics },
        {
          provide: JobViews,
          inject: [BACKUP_MONGO, SERVICE_CONFIG],
          useFactory: (client: MongoClient, c: ServiceConfig) => new JobViews(client, c.metaDb),
        },
        {
          provide: PHASE_DEAD_LETTERS,
          inject: [KAFKA, ConnectionRegistry, PHASES_TOPICS, SERVICE_LOGGER],
          useFactory: async (
            kafka: Kafka,
            registry: ConnectionRegistry,
            t: PhasesTopics,
            logger: JsonLogger,
          ) => {
            const producer = producerFor(kafka);
            await producer.connect();
            registry.add('dead-letter-producer', () => producer.disconnect());
            return new PhaseDeadLetters(producer, t, logger);
          },
        },
      ],
    };
  }
}
