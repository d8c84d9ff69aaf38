/**
 * snapshotter's pipeline: the `SnapshotWorker` of `@tidemark/snapshots` over the backup-side MongoDB (job-state's
 * `jobs`, read only; the heads; the apply fence; the blockstore and the s3 store's metadata), the S3 bucket and the
 * file system (the snapshot stores of `@tidemark/snapshot-stores`), and Kafka:
 * - every `TIDEMARK_SNAPSHOT_TICK_MS` the schedule is checked for every active job (snapshot when due, retention,
 *   grooming; the stored oplog groomed past the job's point-in-time window; expired snapshot mounts dropped);
 * - `tidemark.commands` is read with the bus's consumer loop (group `tidemark-snapshotter`): TAKE_SNAPSHOT,
 *   VERIFY_SNAPSHOT, DELETE_SNAPSHOT and TERMINATE are the snapshotter's; other actions are the agent's and are
 *   committed untouched; a command that does not decode is dead-lettered to `tidemark.commands.dlq`. A command is
 *   committed once its work and its event are durable; a retriable failure (a busy lock, the fence not granted)
 *   is retried after a backoff, so an on-demand snapshot waits for a running one instead of being lost;
 * - every outcome is a `SnapshotEvent` on `tidemark.snapshots`, and counted in `/metrics` once published
 *   (`tidemark_snapshot_*`).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import {
  CommittingConsumer,
  KafkaSnapshotEventPublisher,
  recordDecoder,
  type JobCommand,
} from '@tidemark/bus';
import { TidemarkError, type SnapshotStoreSpec } from '@tidemark/domain';
import { MongoApplyFence, MongoHeadRegistry, MongoHeadSource } from '@tidemark/head-database-mongo';
import { MongoSnapshotJobSource } from '@tidemark/jobs-mongo';
import { classifyMongoError } from '@tidemark/mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import { reapMounts } from '@tidemark/restore';
import { MongoMountRegistry, MongoScratchAdmin } from '@tidemark/restore-mongo';
import { classifyS3Error, createS3Client } from '@tidemark/s3';
import { createSnapshotStore } from '@tidemark/snapshot-stores';
import {
  loadEncryptionKey,
  SnapshotUnavailableError,
  SnapshotWorker,
  StoreLockBusyError,
  type EncryptionKey,
  type SnapshotStore,
} from '@tidemark/snapshots';
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
import { meteredSnapshotEvents } from './metered-snapshot-events';
import type { SnapshotSettings } from './snapshot-settings';

export const SNAPSHOTTER_PIPELINE = Symbol('tidemark.snapshotter.pipeline');
export const SNAPSHOT_SETTINGS = Symbol('tidemark.snapshotter.settings');

/** The commands the snapshotter acts on. */
const MINE = new Set(['TAKE_SNAPSHOT', 'VERIFY_SNAPSHOT', 'DELETE_SNAPSHOT', 'TERMINATE']);

export class SnapshotterPipeline implements OnApplicationBootstrap, PipelineHealth {
  private consumer: CommittingConsumer<JobCommand> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastRound: Promise<void> = Promise.resolve();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(SNAPSHOT_SETTINGS) private readonly settings: SnapshotSettings,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(BACKUP_MONGO) private readonly backup: MongoClient,
    @Inject(SERVICE_LOGGER) private readonly logger: JsonLogger,
    @Inject(ConnectionRegistry) private readonly connections: ConnectionRegistry,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
  ) {}

  get problems(): string[] {
    if (this.consumer === undefined) return ['pipeline not started'];
    return this.consumer.problems;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { backup, config, settings } = this;
    const owner = `snapshotter:${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    // The s3 store retries on its own (its named backoff), so its client makes one attempt per call; the bucket is
    // ensured by the shell's connections, whose client also serves the readiness check.
    const s3 = createS3Client(config.endpoints.s3, { maxAttempts: 1 });
    this.connections.add('s3-store-client', async () => s3.destroy());
    const stores = new Map<string, Promise<SnapshotStore>>();
    const storeFor = (spec: SnapshotStoreSpec): Promise<SnapshotStore> => {
      const key = `${spec.kind}:${spec.path ?? ''}`;
      let store = stores.get(key);
      if (store === undefined) {
        store = createSnapshotStore(spec.kind, {
          mongo: { client: backup, database: settings.database, classifyError: classifyMongoError },
          s3: {
            client: s3,
            bucket: config.endpoints.s3.bucket,
            prefix: settings.s3Prefix,
            classifyError: classifyS3Error,
          },
          ...(spec.path === undefined ? {} : { filesystem: { root: spec.path } }),
        });
        store.catch(() => stores.delete(key)); // a store that failed to open is opened again next time
        stores.set(key, store);
      }
      return store;
    };
    const keyFor = async (spec: SnapshotStoreSpec): Promise<EncryptionKey | undefined> =>
      spec.encryptionKeyFile === undefined ? undefined : loadEncryptionKey({ file: spec.encryptionKeyFile });
    const registry = new MongoHeadRegistry(backup, config.metaDb);
    await registry.init();
    const producer = await connectedProducer(this.kafka, this.connections);
    const worker = new SnapshotWorker({
      jobs: new MongoSnapshotJobSource(backup, config.metaDb),
      storeFor,
      keyFor,
      head: new MongoHeadSource(backup, registry),
      fence: new MongoApplyFence(backup, config.metaDb),
      events: meteredSnapshotEvents(
        new KafkaSnapshotEventPublisher(producer, config.topics.snapshots),
        this.metrics,
      ),
      owner,
      timings: { leaseTtlMs: settings.leaseTtlMs, fenceWaitMs: settings.fenceWaitMs },
      log: (e) => this.logger.event(e),
      // Groomed past each job's point-in-time window (`TIDEMARK_OPLOG_STORE_DB`, as the oplog-applier reads it).
      oplog: new MongoOplogStore(backup),
      isRetriable: isRetriableError,
    });

    this.consumer = new CommittingConsumer({
      kafka: this.kafka,
      groupId: config.consumerGroup,
      topics: [config.topics.commands],
      decode: recordDecoder('tidemark.commands.JobCommand'),
      producer,
      isRetriable: (err) =>
        isRetriableError(err) || err instanceof SnapshotUnavailableError || err instanceof StoreLockBusyError,
      log: (level, fields) => this.logger.eventAt(level, fields),
      metrics: this.metrics,
      handle: async (command) => {
        if (!MINE.has(command.action)) return;
        const param = (name: string): string => {
          const value = command.params[name];
          if (value === undefined || value === '') {
            throw new TidemarkError(`${command.action} ${command.commandId} has no ${name}`, {
              retriable: false,
            });
          }
          return value;
        };
        const requestId = command.params['requestId'];
        switch (command.action) {
          case 'TAKE_SNAPSHOT':
            // A busy lock or an unavailable fence throws a retriable error: retried after a backoff, never dropped.
            await worker.take(command.jobId, param('snapshotId'), requestId);
            return;
          case 'VERIFY_SNAPSHOT':
            return worker.verify(command.jobId, param('snapshotId'), requestId);
          case 'DELETE_SNAPSHOT':
            return worker.remove(command.jobId, param('snapshotId'), requestId);
          case 'TERMINATE':
            return worker.terminate(command.jobId);
        }
      },
    });
    await this.consumer.start();
    this.connections.add('commands-consumer', async () => this.consumer?.stop());

    const mounts = new MongoMountRegistry(backup, config.metaDb);
    const scratch = new MongoScratchAdmin(backup);
    const reap = async () => {
      const reaped = await reapMounts(mounts, scratch, new Date());
      if (reaped.length > 0) this.logger.event({ event: 'mounts-expired', mounts: reaped });
    };
    const round = () => {
      this.lastRound = worker
        .tick()
        .then(reap)
        .catch((err: unknown) => {
          this.logger.event({ event: 'snapshot-schedule-failed', reason: String(err) });
        });
    };
    this.timer = setInterval(round, settings.tickMs);
    this.timer.unref();
    round();
    this.connections.add('snapshot-schedule', async () => {
      if (this.timer !== undefined) clearInterval(this.timer);
      await this.lastRound;
    });
  }
}
