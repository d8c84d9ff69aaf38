/**
 * oplog-applier's pipeline: the `ApplyScheduler` of `@tidemark/head-database` over the backup-side MongoDB (oplog store,
 * head registry, head databases, leases, snapshot fence requests, missing documents, job-state's `jobs`) and Kafka
 * (phases, commands, alerts), woken by `tidemark.slices.stored`. A job with a fence request (a snapshot reading its
 * head) is left alone until the request goes (docs/services.md).
 *
 * The claim checks are only a wake-up signal: the oplog store, not Kafka, is the source of truth (the scheduler
 * scans the jobs every tick anyway), so each claim is committed as soon as its job is woken. A claim that does not
 * decode is dead-lettered by the bus's consumer loop (to `tidemark.slices.stored.dlq`, as head-builder's loop does),
 * then committed.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { ApplyLoop, ApplyScheduler, RecordedDatabases } from '@tidemark/head-database';
import {
  MongoApplyTarget,
  MongoFenceStore,
  MongoLeaseStore,
  MongoMissingDocumentStore,
} from '@tidemark/head-database-mongo';
import { MongoJobPhaseReader } from '@tidemark/jobs-mongo';
import { CommittingConsumer, recordDecoder, type SliceStored } from '@tidemark/bus';
import { DEFAULT_SLICE_LIMITS } from '@tidemark/domain';
import { MongoHeadRegistry } from '@tidemark/head-database-mongo';
import { OplogApplier } from '@tidemark/oplog-apply';
import { MongoOplogStore } from '@tidemark/oplog-store';
import { decodeSlicePayload } from '@tidemark/slices';
import {
  BACKUP_MONGO,
  ConnectionRegistry,
  connectedProducer,
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
import type { ApplySettings } from './apply-settings';
import { busPorts } from './bus-ports';

export const OPLOG_APPLIER_PIPELINE = Symbol('tidemark.oplog-applier.pipeline');
export const APPLY_SETTINGS = Symbol('tidemark.oplog-applier.settings');

export class OplogApplierPipeline implements OnApplicationBootstrap, PipelineHealth {
  private consumer: CommittingConsumer<SliceStored> | undefined;
  private scheduler: ApplyScheduler | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(APPLY_SETTINGS) private readonly settings: ApplySettings,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(BACKUP_MONGO) private readonly backup: MongoClient,
    @Inject(SERVICE_LOGGER) private readonly logger: JsonLogger,
    @Inject(ConnectionRegistry) private readonly connections: ConnectionRegistry,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
  ) {}

  get problems(): string[] {
    if (this.scheduler === undefined || this.consumer === undefined) return ['pipeline not started'];
    return [...this.scheduler.problems, ...this.consumer.problems];
  }

  async onApplicationBootstrap(): Promise<void> {
    const { backup, config, settings } = this;
    const store = new MongoOplogStore(backup, settings.oplogStoreDb);
    await store.init();
    const registry = new MongoHeadRegistry(backup, config.metaDb);
    await registry.init();
    const missing = new MongoMissingDocumentStore(backup, config.metaDb);
    await missing.init();
    const producer = await connectedProducer(this.kafka, this.connections);
    const bus = busPorts(producer, config.topics);
    const target = new MongoApplyTarget(backup, { readYourWrites: true, isRetriable: isRetriableError });
    // Every head database is recorded before the first write into it, so snapshots list the head's own.
    const recorded = new RecordedDatabases(registry);

    const loop = new ApplyLoop(
      {
        store,
        registry,
        targets: (job) => recorded.target(target, job),
        appliers: (t, options) => new OplogApplier(t, options),
        decode: (payload, meta) => decodeSlicePayload(payload, meta, DEFAULT_SLICE_LIMITS),
        missing,
        phases: bus.phases,
        commands: bus.commands,
      },
      { maxSlicesPerTurn: settings.maxSlicesPerTurn, verifyRoundTrip: settings.verifyRoundTrip },
    );
    const scheduler = new ApplyScheduler(
      {
        jobs: new MongoJobPhaseReader(backup, config.metaDb),
        leases: new MongoLeaseStore(backup, config.metaDb),
        fences: new MongoFenceStore(backup, config.metaDb),
        loop,
        alerts: bus.alerts,
        isRetriable: isRetriableError,
        log: (e) => this.logger.event(e),
        metrics: this.metrics,
      },
      {
        owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
        leaseTtlMs: settings.leaseTtlMs,
        tickMs: settings.tickMs,
      },
    );
    this.scheduler = scheduler;

    this.consumer = new CommittingConsumer({
      kafka: this.kafka,
      groupId: config.consumerGroup,
      topics: [config.topics.slicesStored],
      decode: recordDecoder('tidemark.slices.SliceStored'),
      producer,
      isRetriable: isRetriableError,
      log: (level, fields) => this.logger.eventAt(level, fields),
      metrics: this.metrics,
      handle: async (claim) => {
        if (claim.kind !== 'INITIAL') scheduler.wake(claim.jobId);
      },
    });
    scheduler.start();
    this.connections.add('apply-scheduler', () => scheduler.stop());
    await this.consumer.start();
    this.connections.add('slices-stored-consumer', async () => this.consumer?.stop());
  }
}
