/**
 * Wiring of the oplog-applier service: connections (Kafka, backup MongoDB; topics ensured), the pipeline that
 * applies stored oplog slices to the head databases (`oplog-applier.pipeline.ts`), and health: `/healthz`, and
 * `/readyz` checking Kafka, the backup MongoDB and the pipeline itself (not ready while a job's apply is stopped by
 * a fatal error or a partition is halted). See README.md.
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
import type { ApplySettings } from './apply-settings';
import { APPLY_SETTINGS, OPLOG_APPLIER_PIPELINE, OplogApplierPipeline } from './oplog-applier.pipeline';

@Module({})
class PipelineModule {}

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig, settings: ApplySettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { backup: true }),
        {
          // Global, so the health module's pipeline check can inject it.
          module: PipelineModule,
          global: true,
          providers: [
            { provide: APPLY_SETTINGS, useValue: settings },
            OplogApplierPipeline,
            { provide: OPLOG_APPLIER_PIPELINE, useExisting: OplogApplierPipeline },
          ],
          exports: [OPLOG_APPLIER_PIPELINE],
        },
        HealthModule.forDependencies([
          kafkaCheck('slicesStored'),
          mongoCheck('backup'),
          pipelineCheck(OPLOG_APPLIER_PIPELINE),
        ]),
      ],
    };
  }
}
