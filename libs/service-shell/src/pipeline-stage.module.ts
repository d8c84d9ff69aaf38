/**
 * `PipelineStageModule.forStage(config, stage)`: the wiring the pipeline stages that work on the backup side share
 * (slice-ingest, head-builder, oplog-applier, snapshotter): connections (Kafka with the service's topics ensured,
 * the backup MongoDB, S3 when the stage asks), the stage's own providers, and health: `/healthz`, and `/readyz`
 * checking Kafka (on the topic the stage reads), the backup MongoDB, S3 when used, and the pipeline itself (not ready while a partition is halted or a job's work
 * is stopped by a fatal error, with the reason).
 */
import { Module, type DynamicModule, type InjectionToken, type Provider } from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import { producerFor, type TopicId } from '@tidemark/bus';
import { ConnectionsModule } from './connections/connections.module';
import type { ConnectionRegistry } from './connections/connection-registry';
import { kafkaCheck, mongoCheck, s3Check } from './health/checks';
import { HealthModule } from './health/health.module';
import { pipelineCheck } from './health/pipeline-check';
import type { ServiceConfig } from './service-config';

export interface PipelineStage {
  /** The topic the stage reads; its metadata is the Kafka readiness probe. */
  readonly reads: TopicId;
  /** Token of the provider that runs the pipeline; it must be a `PipelineHealth`. */
  readonly pipeline: InjectionToken;
  /** The stage's providers, one of them providing `pipeline`. */
  readonly providers: Provider[];
  /** Also an S3 client (the snapshot bucket ensured) and its readiness check (`s3`: HeadBucket). */
  readonly s3?: boolean;
}

@Module({})
class StageProvidersModule {}

@Module({})
export class PipelineStageModule {
  static forStage(config: ServiceConfig, stage: PipelineStage): DynamicModule {
    return {
      module: PipelineStageModule,
      imports: [
        ConnectionsModule.forService(config, { backup: true, s3: stage.s3 === true }),
        {
          // Global, so the health module's pipeline check can inject the pipeline.
          module: StageProvidersModule,
          global: true,
          providers: stage.providers,
          exports: [stage.pipeline],
        },
        HealthModule.forDependencies([
          kafkaCheck(stage.reads),
          mongoCheck('backup'),
          ...(stage.s3 === true ? [s3Check()] : []),
          pipelineCheck(stage.pipeline),
        ]),
      ],
    };
  }
}

/** A connected kafkajs producer with Tidemark's settings, disconnected at shutdown (after the consumers). */
export async function connectedProducer(
  kafka: Kafka,
  connections: ConnectionRegistry,
  name = 'producer',
): Promise<Producer> {
  const producer = producerFor(kafka);
  await producer.connect();
  connections.add(name, () => producer.disconnect());
  return producer;
}
