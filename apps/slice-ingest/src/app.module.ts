/**
 * Wiring of the slice-ingest service: the shared pipeline-stage wiring (connections to Kafka and the backup
 * MongoDB, topics ensured; health: `/healthz`, and `/readyz` checking Kafka, the backup MongoDB and the pipeline
 * itself, not ready while a partition is halted by a fatal error) around the ingest step
 * (`ingest/slice-ingest.providers.ts`). See README.md.
 */
import type { DynamicModule } from '@nestjs/common';
import { PipelineStageModule, type ServiceConfig } from '@tidemark/service-shell';
import type { IngestSettings } from './ingest/ingest-settings';
import type { SliceIngestHooks } from './ingest/slice-ingest-handler';
import { sliceIngestProviders } from './ingest/slice-ingest.providers';
import { SLICE_INGEST_CONSUMER } from './ingest/tokens';

export class AppModule {
  static forRoot(
    config: ServiceConfig,
    settings: IngestSettings,
    hooks: SliceIngestHooks = {},
  ): DynamicModule {
    return PipelineStageModule.forStage(config, {
      reads: 'slicesOplog',
      pipeline: SLICE_INGEST_CONSUMER,
      providers: sliceIngestProviders(config, settings, hooks),
    });
  }
}
