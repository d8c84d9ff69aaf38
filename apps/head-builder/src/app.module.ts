/**
 * Wiring of the head-builder service: the shared pipeline-stage wiring (connections to Kafka and the backup
 * MongoDB, health including the pipeline's own state) around the pipeline that builds head databases from stored
 * initial-sync slices. See README.md.
 */
import type { DynamicModule } from '@nestjs/common';
import { PipelineStageModule, type ServiceConfig } from '@tidemark/service-shell';
import { HEAD_BUILDER_PIPELINE, HeadBuilderPipeline } from './head-builder.pipeline';

export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return PipelineStageModule.forStage(config, {
      reads: 'slicesStored',
      pipeline: HEAD_BUILDER_PIPELINE,
      providers: [{ provide: HEAD_BUILDER_PIPELINE, useClass: HeadBuilderPipeline }],
    });
  }
}
