/**
 * Wiring of the slice-ingest service: connections (Kafka, backup MongoDB; topics ensured), the ingest pipeline
 * (`ingest/slice-ingest.module.ts`) and health: `/healthz`, and `/readyz` checking Kafka, the backup MongoDB and
 * the pipeline itself (not ready while a partition is halted by a fatal error). See README.md.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { ConnectionsModule, HealthModule, kafkaCheck, mongoCheck, type ServiceConfig } from '@tidemark/shell';
import type { IngestSettings } from './ingest/ingest-settings';
import type { SliceIngestHooks } from './ingest/slice-ingest-consumer';
import { pipelineCheck, SliceIngestModule } from './ingest/slice-ingest.module';

@Module({})
export class AppModule {
  static forRoot(
    config: ServiceConfig,
    settings: IngestSettings,
    hooks: SliceIngestHooks = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { backup: true }),
        SliceIngestModule.forRoot(config, settings, hooks),
        HealthModule.forDependencies([kafkaCheck('slicesOplog'), mongoCheck('backup'), pipelineCheck()]),
      ],
    };
  }
}
