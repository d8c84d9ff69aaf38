/**
 * Wiring of the head-builder service: connections (Kafka, backup MongoDB), the pipeline that builds head databases
 * from stored initial-sync slices, and health (dependencies plus the pipeline's own state). See README.md.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import {
  ConnectionsModule,
  HealthModule,
  kafkaCheck,
  mongoCheck,
  pipelineCheck,
  type ServiceConfig,
} from '@tidemark/shell';
import { HEAD_BUILDER_PIPELINE, HeadBuilderPipeline } from './head-builder.pipeline';

@Module({})
class PipelineModule {}

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { backup: true }),
        {
          // Global, so the health module's pipeline check can inject it.
          module: PipelineModule,
          global: true,
          providers: [
            HeadBuilderPipeline,
            { provide: HEAD_BUILDER_PIPELINE, useExisting: HeadBuilderPipeline },
          ],
          exports: [HEAD_BUILDER_PIPELINE],
        },
        HealthModule.forDependencies([
          kafkaCheck('slicesStored'),
          mongoCheck('backup'),
          pipelineCheck(HEAD_BUILDER_PIPELINE),
        ]),
      ],
    };
  }
}
