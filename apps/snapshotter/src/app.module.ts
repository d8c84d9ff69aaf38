/**
 * Wiring of the snapshotter service: the shared pipeline-stage wiring (connections to Kafka and the backup MongoDB;
 * `/healthz`, and `/readyz` checking Kafka, the backup MongoDB, S3 (HeadBucket) and the pipeline) around the pipeline that takes,
 * verifies, expires and grooms snapshots (`snapshotter.pipeline.ts`). See README.md.
 */
import type { DynamicModule } from '@nestjs/common';
import { PipelineStageModule, type ServiceConfig } from '@tidemark/service-shell';
import type { SnapshotSettings } from './snapshot-settings';
import { SNAPSHOT_SETTINGS, SNAPSHOTTER_PIPELINE, SnapshotterPipeline } from './snapshotter.pipeline';

export class AppModule {
  static forRoot(config: ServiceConfig, settings: SnapshotSettings): DynamicModule {
    return PipelineStageModule.forStage(config, {
      reads: 'commands',
      pipeline: SNAPSHOTTER_PIPELINE,
      s3: true,
      providers: [
        { provide: SNAPSHOT_SETTINGS, useValue: settings },
        { provide: SNAPSHOTTER_PIPELINE, useClass: SnapshotterPipeline },
      ],
    });
  }
}
