/**
 * Wiring of the oplog-applier service: the shared pipeline-stage wiring (connections to Kafka and the backup
 * MongoDB; health: `/healthz`, and `/readyz` checking Kafka, the backup MongoDB and the pipeline itself, not ready
 * while a job's apply is stopped by a fatal error or a partition is halted) around the pipeline that applies stored
 * oplog slices to the head databases (`oplog-applier.pipeline.ts`). See README.md.
 */
import type { DynamicModule } from '@nestjs/common';
import { PipelineStageModule, type ServiceConfig } from '@tidemark/service-shell';
import type { ApplySettings } from './apply-settings';
import { APPLY_SETTINGS, OPLOG_APPLIER_PIPELINE, OplogApplierPipeline } from './oplog-applier.pipeline';

export class AppModule {
  static forRoot(config: ServiceConfig, settings: ApplySettings): DynamicModule {
    return PipelineStageModule.forStage(config, {
      reads: 'slicesStored',
      pipeline: OPLOG_APPLIER_PIPELINE,
      providers: [
        { provide: APPLY_SETTINGS, useValue: settings },
        { provide: OPLOG_APPLIER_PIPELINE, useClass: OplogApplierPipeline },
      ],
    });
  }
}
