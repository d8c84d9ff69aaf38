/**
 * head-builder's pipeline: consumes `tidemark.slices.stored` (group `tidemark-head-builder`) with kafkajs through
 * the bus's CommittingConsumer, so "decode, build, commit after the effect is durable" reads top to bottom here
 * (a claim that cannot be decoded is dead-lettered by the loop), and builds heads with the HeadBuilder feature.
 * Phases go to `tidemark.phases` (key: job id).
 */
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import {
  CommittingConsumer,
  KafkaPhaseReporter,
  recordDecoder,
  SLICE_KIND_FROM_AVRO,
  type SliceStored,
} from '@tidemark/bus';
import { HeadBuilder } from '@tidemark/head-database';
import {
  DEFAULT_HEAD_INSERT_CONCURRENCY,
  MongoHeadRegistry,
  MongoHeadWriter,
} from '@tidemark/head-database-mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import {
  BACKUP_MONGO,
  ConnectionRegistry,
  connectedProducer,
  intFromEnv,
  isRetriableError,
  JsonLogger,
  KAFKA,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type PipelineHealth,
  type ServiceConfig,
  type ServiceMetrics,
} from '@tidemark/service-shell';

export const HEAD_BUILDER_PIPELINE = Symbol('tidemark.head-builder.pipeline');

export class HeadBuilderPipeline implements OnApplicationBootstrap, PipelineHealth {
  private consumer: CommittingConsumer<SliceStored> | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(BACKUP_MONGO) private readonly backup: MongoClient,
    @Inject(SERVICE_LOGGER) private readonly logger: JsonLogger,
    @Inject(ConnectionRegistry) private readonly connections: ConnectionRegistry,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
  ) {}

  get problems(): string[] {
    return this.consumer?.problems ?? ['consumer not started'];
  }

  async onApplicationBootstrap(): Promise<void> {
    const store = new MongoOplogStore(this.backup);
    await store.init();
    const registry = new MongoHeadRegistry(this.backup, this.config.metaDb);
    await registry.init();
    const producer = await connectedProducer(this.kafka, this.connections);
    const phases = new KafkaPhaseReporter(producer, this.config.topics.phases);
    // Insert commands of one slice in flight at once (the backup server writes each on one core).
    const insertConcurrency = intFromEnv(
      process.env,
      'TIDEMARK_HEAD_INSERT_CONCURRENCY',
      DEFAULT_HEAD_INSERT_CONCURRENCY,
      1,
      16,
    );
    const writer = new MongoHeadWriter(this.backup, insertConcurrency);
    const builder = new HeadBuilder(store, registry, writer, {
      report: async (r) => {
        await phases.report(r);
        this.logger.event({ event: 'phase-reported', jobId: r.jobId, syncId: r.syncId, phase: r.phase });
      },
    });
    this.consumer = new CommittingConsumer({
      kafka: this.kafka,
      groupId: this.config.consumerGroup,
      topics: [this.config.topics.slicesStored],
      decode: recordDecoder('tidemark.slices.SliceStored'),
      producer,
      isRetriable: isRetriableError,
      log: (level, fields) => this.logger.eventAt(level, fields),
      metrics: this.metrics,
      handle: async (claim) => {
        const kind = SLICE_KIND_FROM_AVRO[claim.kind];
        const outcome = await builder.onSliceStored({
          jobId: claim.jobId,
          syncId: claim.syncId,
          sliceId: claim.sliceId,
          kind,
        });
        if (outcome.kind !== 'ignored') this.logger.event({ event: 'slice-built', ...outcome });
        if (outcome.kind === 'built') {
          this.metrics.slices(kind, 'built', 1, outcome.docs, Number(claim.compressedBytes));
        }
      },
    });
    await this.consumer.start();
    this.connections.add('slices-stored-consumer', async () => this.consumer?.stop());
  }
}
