/**
 * Wiring of job-state: connections (Kafka, backup MongoDB), health probes, access control (`@tidemark/access` over
 * `MongoAccessStore`, enforced on every route by the global `AccessGuard`), the jobs feature (`@tidemark/jobs`)
 * over its adapters (Kafka publisher; built once over the backup MongoClient and shared by the services: the jobs
 * repository `JOB_REPOSITORY`, the backup data over head registry / head writer / oplog store `BACKUP_DATA`, and the
 * snapshot and restore catalogs `SNAPSHOT_CATALOG` and `RESTORE_CATALOG`), the REST API, the events consumer (the
 * bus's consumer loop folding `tidemark.phases` and `tidemark.alerts`, with its dead-letter producer) and the
 * background effects flusher; the alerts (`AlertService` over `MongoAlertStore` and `KafkaAlertPublisher`, evaluated
 * by the periodic `AlertEvaluator` and by the events consumer).
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, Reflector } from '@nestjs/core';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { AccessService, AuditLog, AuditTrail, auditEventView, KeyGuessLimiter } from '@tidemark/access';
import { MongoAccessStore, MongoAuditStore } from '@tidemark/access-mongo';
import {
  KafkaAlertPublisher,
  KafkaAuditEventPublisher,
  KafkaCommandPublisher,
  KafkaRestoreEventPublisher,
  producerFor,
} from '@tidemark/bus';
import { MongoHeadRegistry, MongoHeadWriter } from '@tidemark/head-database-mongo';
import {
  AlertService,
  countJobs,
  JobService,
  loadProjectView,
  ProjectFeed,
  RestoreService,
  StoreBackupData,
  type AlertThresholds,
  type JobBackupData,
  type JobRepository,
  type RestoreCatalog,
  type SnapshotCatalog,
  type ProjectView,
} from '@tidemark/jobs';
import {
  MongoAlertStore,
  MongoJobRepository,
  MongoRestoreCatalog,
  MongoSnapshotCatalog,
} from '@tidemark/jobs-mongo';
import { describeError } from '@tidemark/domain';
import { classifyMongoError } from '@tidemark/mongo';
import { MongoOplogStore } from '@tidemark/oplog-store';
import {
  BACKUP_MONGO,
  ConnectionRegistry,
  ConnectionsModule,
  HealthModule,
  KAFKA,
  KAFKA_ADMIN,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  kafkaCheck,
  mongoCheck,
  type JsonLogger,
  type ServiceConfig,
  type ServiceMetrics,
} from '@tidemark/service-shell';
import { AccessGuard } from './access/access.guard';
import { KeysController } from './access/keys.controller';
import { ProjectsController } from './access/projects.controller';
import { ResourceProjects } from './access/resource-projects';
import { AuditController } from './audit/audit.controller';
import { AuditFlusher } from './audit/audit-flusher';
import { AuditInterceptor } from './audit/audit.interceptor';
import { AuditRecorder } from './audit/audit-recorder';
import { jobEventsConsumer, type EventTopics } from './bus/job-events.consumer';
import { AgentJobsController } from './jobs/agent-jobs.controller';
import { AlertEvaluator, readStagePartitions } from './jobs/alert-evaluator';
import { AlertsController } from './jobs/alerts.controller';
import { EffectsFlusher } from './jobs/effects-flusher';
import { RestoreReaper } from './jobs/restore-reaper';
import { JobActionsController } from './jobs/job-actions.controller';
import { JobSettingsController } from './jobs/job-settings.controller';
import { RestoresController } from './jobs/restores.controller';
import { SnapshotsController } from './jobs/snapshots.controller';
import { JobStatusController } from './jobs/job-status.controller';
import { JobsController } from './jobs/jobs.controller';
import { BackupPageController } from './page/backup-page.controller';
import { loadPageAssets } from './page/page-assets';
import { ProjectStreamController } from './page/project-stream.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { OpenApiDocument } from './openapi/openapi-document';
import {
  BACKUP_DATA,
  COMMAND_PRODUCER,
  EVENTS_CONSUMER,
  JOB_METRICS,
  JOB_REPOSITORY,
  PAGE_ASSETS,
  PROJECT_FEED,
  RESTORE_CATALOG,
  SNAPSHOT_CATALOG,
} from './tokens';

/** What `job-state-service.ts` resolved from the environment besides the service config. */
export interface JobStateSettings {
  readonly topics: EventTopics;
  /** `TIDEMARK_OPLOG_STORE_DB`, default `tidemark_oplogstore`. */
  readonly oplogStoreDb: string;
  /** `TIDEMARK_EFFECTS_FLUSH_MS`, default 10 s. */
  readonly effectsFlushMs: number;
  /** `TIDEMARK_RESTORE_PROGRESS_EVENT_MS`, default 5 s: least time between two PROGRESSED events of a restore. */
  readonly restoreProgressEventMs: number;
  /** `TIDEMARK_RESTORE_ABANDON_MS`, default 2 min: a running restore not heard from for longer is recorded failed. */
  readonly restoreAbandonMs: number;
  /** `TIDEMARK_RESTORE_REAP_MS`, default 30 s: how often abandoned restores are looked for. */
  readonly restoreReapMs: number;
  /** `TIDEMARK_AUDIT_FLUSH_MS`, default 10 s: how often owed audit events are published. */
  readonly auditFlushMs: number;
  /** `TIDEMARK_AUTH_FAILURE_LIMIT` / `_WINDOW_MS`: failed authentications per address and key id per window. */
  readonly keyGuessLimits: { readonly maxFailures: number; readonly windowMs: number };
  /** `TIDEMARK_UI_POLL_MS`, default 1 s: how often the Backup page's live view re-reads a watched project. */
  readonly uiPollMs: number;
  /** `TIDEMARK_UI_MAX_STREAMS`, default 100: live views open at once (one more is 503). */
  readonly uiMaxStreams: number;
  /** `TIDEMARK_ALERT_OPLOG_BEHIND_MS`, `TIDEMARK_ALERT_LAG_HIGH_SECONDS`, `TIDEMARK_ALERT_STAGE_IDLE_MS`. */
  readonly alertThresholds: AlertThresholds;
  /** `TIDEMARK_ALERT_EVAL_MS`, default 30 s: how often every job's alerts and the stages' groups are evaluated. */
  readonly alertEvalMs: number;
  /** `TIDEMARK_ALERT_CLOSED_RETENTION_MS`, default 7 days: how long closed alerts are kept. */
  readonly alertClosedRetentionMs: number;
  /** `TIDEMARK_ADMIN_KEY[_FILE]`, `TIDEMARK_SERVICE_TOKEN[_FILE]` (`accessCredentialsFromEnv`); never logged. */
  readonly credentials: { readonly adminKey: string; readonly serviceToken: string };
}

@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig, settings: JobStateSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionsModule.forService(config, { backup: true }),
        HealthModule.forDependencies([kafkaCheck('phases'), mongoCheck('backup')]),
      ],
      controllers: [
        JobsController,
        SnapshotsController,
        RestoresController,
        JobActionsController,
        JobSettingsController,
        JobStatusController,
        AgentJobsController,
        AlertsController,
        ProjectsController,
        KeysController,
        AuditController,
        BackupPageController,
        ProjectStreamController,
        OpenApiController,
      ],
      providers: [
        // Built from the controllers before the app listens (openapi/api-body.ts, `configureApi`).
        { provide: OpenApiDocument, useValue: new OpenApiDocument() },
        {
          provide: AccessService,
          inject: [BACKUP_MONGO, SERVICE_CONFIG, JobService],
          useFactory: async (client: MongoClient, c: ServiceConfig, jobs: JobService) => {
            const store = new MongoAccessStore(client, c.metaDb, classifyMongoError);
            await store.init();
            return new AccessService({
              store,
              adminKey: settings.credentials.adminKey,
              serviceToken: settings.credentials.serviceToken,
              jobsInProject: (project) => jobs.countJobsInProject(project),
              keyGuessLimiter: new KeyGuessLimiter(settings.keyGuessLimits),
            });
          },
        },
        {
          // The audit trail: <meta>.audit, then tidemark.audit (an outbox; audit/audit-flusher.ts publishes owed events).
          provide: AuditLog,
          inject: [BACKUP_MONGO, COMMAND_PRODUCER, SERVICE_CONFIG, SERVICE_LOGGER],
          useFactory: async (
            client: MongoClient,
            producer: Producer,
            c: ServiceConfig,
            logger: JsonLogger,
          ) => {
            const store = new MongoAuditStore(client, c.metaDb, classifyMongoError);
            await store.init();
            return new AuditLog({
              store,
              publisher: new KafkaAuditEventPublisher(producer, c.topics.audit),
              unstored: (event, err) =>
                logger.eventAt('error', {
                  event: 'audit-unstored',
                  reason: describeError(err),
                  audit: auditEventView(event),
                }),
              warn: (line) => logger.event({ event: 'audit-events-pending', reason: line }),
            });
          },
        },
        {
          // The one place requests are recorded: the guard's refusals and the interceptor's answers.
          provide: AuditRecorder,
          inject: [AuditLog, JobService],
          useFactory: (log: AuditLog, jobs: JobService) =>
            new AuditRecorder(
              new AuditTrail({
                secrets: [settings.credentials.adminKey, settings.credentials.serviceToken],
              }),
              log,
              async (jobId) => {
                try {
                  return (await jobs.getJob(jobId)).state;
                } catch {
                  return undefined; // an unknown job (the handler answers 404) or a store failure: state unknown
                }
              },
            ),
        },
        {
          // Every route: its declared access rule (access/route-access.ts), deny by default.
          provide: APP_GUARD,
          inject: [Reflector, AccessService, JobService, RestoreService, AuditRecorder],
          useFactory: (
            reflector: Reflector,
            access: AccessService,
            jobs: JobService,
            restores: RestoreService,
            audit: AuditRecorder,
          ) => new AccessGuard(reflector, access, new ResourceProjects(jobs, restores, access), audit),
        },
        {
          provide: APP_INTERCEPTOR,
          inject: [Reflector, AuditRecorder],
          useFactory: (reflector: Reflector, audit: AuditRecorder) => new AuditInterceptor(reflector, audit),
        },
        {
          provide: AuditFlusher,
          inject: [AuditLog, SERVICE_LOGGER],
          useFactory: (log: AuditLog, logger: JsonLogger) =>
            new AuditFlusher(log, logger, settings.auditFlushMs),
        },
        {
          provide: COMMAND_PRODUCER,
          inject: [KAFKA, ConnectionRegistry],
          useFactory: (kafka: Kafka, registry: ConnectionRegistry) =>
            connectedProducer(kafka, registry, 'command-producer'),
        },
        {
          // The jobs collection (<meta>.jobs), its indexes created before the services use it.
          provide: JOB_REPOSITORY,
          inject: [BACKUP_MONGO, SERVICE_CONFIG],
          useFactory: async (client: MongoClient, c: ServiceConfig): Promise<JobRepository> => {
            const jobs = new MongoJobRepository(client, c.metaDb, classifyMongoError);
            await jobs.init();
            return jobs;
          },
        },
        {
          // A job's data on the backup side: its head databases (registry and writer) and its stored oplog.
          provide: BACKUP_DATA,
          inject: [BACKUP_MONGO, SERVICE_CONFIG],
          useFactory: async (client: MongoClient, c: ServiceConfig): Promise<JobBackupData> => {
            const heads = new MongoHeadRegistry(client, c.metaDb);
            const oplogStore = new MongoOplogStore(client, settings.oplogStoreDb);
            await Promise.all([heads.init(), oplogStore.init()]);
            return new StoreBackupData(heads, new MongoHeadWriter(client), oplogStore, classifyMongoError);
          },
        },
        {
          // The snapshots' records job-state reads (<meta>.snapshots, written by the snapshotter).
          provide: SNAPSHOT_CATALOG,
          inject: [BACKUP_MONGO, SERVICE_CONFIG],
          useFactory: async (client: MongoClient, c: ServiceConfig): Promise<SnapshotCatalog> => {
            const snapshots = new MongoSnapshotCatalog(client, c.metaDb, classifyMongoError);
            await snapshots.init();
            return snapshots;
          },
        },
        {
          // The restores' records (<meta>.restores).
          provide: RESTORE_CATALOG,
          inject: [BACKUP_MONGO, SERVICE_CONFIG],
          useFactory: async (client: MongoClient, c: ServiceConfig): Promise<RestoreCatalog> => {
            const restores = new MongoRestoreCatalog(client, c.metaDb, classifyMongoError);
            await restores.init();
            return restores;
          },
        },
        {
          provide: JobService,
          inject: [COMMAND_PRODUCER, SERVICE_CONFIG, JOB_REPOSITORY, BACKUP_DATA, SNAPSHOT_CATALOG],
          useFactory: (
            producer: Producer,
            c: ServiceConfig,
            jobs: JobRepository,
            backupData: JobBackupData,
            snapshots: SnapshotCatalog,
          ) => {
            return new JobService({
              jobs,
              publisher: new KafkaCommandPublisher(producer, c.topics.commands, c.topics.phases),
              backupData,
              backupUri: c.endpoints.backup.uri,
              snapshots,
            });
          },
        },
        {
          // Restores run in the CLI; job-state records them and publishes their events (tidemark.restores).
          provide: RestoreService,
          inject: [
            COMMAND_PRODUCER,
            SERVICE_CONFIG,
            SERVICE_LOGGER,
            JOB_REPOSITORY,
            SNAPSHOT_CATALOG,
            RESTORE_CATALOG,
          ],
          useFactory: (
            producer: Producer,
            c: ServiceConfig,
            logger: JsonLogger,
            jobs: JobRepository,
            snapshots: SnapshotCatalog,
            restores: RestoreCatalog,
          ) => {
            return new RestoreService({
              jobs,
              snapshots,
              restores,
              events: new KafkaRestoreEventPublisher(producer, c.topics.restores),
              progressEventIntervalMs: settings.restoreProgressEventMs,
              abandonAfterMs: settings.restoreAbandonMs,
              warn: (line) => logger.event({ event: 'audit-publish-pending', reason: line }),
            });
          },
        },
        {
          // Alerts that open and close (docs/api.md, "Alerts"), stored in <meta>.alerts, events on tidemark.alerts.
          provide: AlertService,
          inject: [
            BACKUP_MONGO,
            COMMAND_PRODUCER,
            SERVICE_CONFIG,
            SERVICE_LOGGER,
            JOB_REPOSITORY,
            BACKUP_DATA,
            SNAPSHOT_CATALOG,
            RESTORE_CATALOG,
          ],
          useFactory: async (
            client: MongoClient,
            producer: Producer,
            c: ServiceConfig,
            logger: JsonLogger,
            jobs: JobRepository,
            backupData: JobBackupData,
            snapshots: SnapshotCatalog,
            restores: RestoreCatalog,
          ) => {
            const store = new MongoAlertStore(client, c.metaDb, classifyMongoError);
            await store.init();
            return new AlertService({
              store,
              events: new KafkaAlertPublisher(producer, c.topics.alerts),
              jobs,
              backupData,
              snapshots,
              restores,
              thresholds: settings.alertThresholds,
              warn: (line) => logger.event({ event: 'alert-events-pending', reason: line }),
            });
          },
        },
        {
          provide: AlertEvaluator,
          inject: [AlertService, KAFKA_ADMIN, SERVICE_CONFIG, SERVICE_LOGGER],
          useFactory: (alerts: AlertService, admin: Admin, c: ServiceConfig, logger: JsonLogger) =>
            new AlertEvaluator(
              alerts,
              () => readStagePartitions(admin, c.topics, c.topicPrefix),
              logger,
              settings.alertEvalMs,
              settings.alertClosedRetentionMs,
            ),
        },
        {
          // Closed before its dead-letter producer at shutdown (the registry closes newest first).
          provide: EVENTS_CONSUMER,
          inject: [
            KAFKA,
            ConnectionRegistry,
            SERVICE_LOGGER,
            JobService,
            SERVICE_CONFIG,
            SERVICE_METRICS,
            AlertService,
          ],
          useFactory: async (
            kafka: Kafka,
            registry: ConnectionRegistry,
            logger: JsonLogger,
            jobs: JobService,
            c: ServiceConfig,
            metrics: ServiceMetrics,
            alerts: AlertService,
          ) => {
            const producer = await connectedProducer(kafka, registry, 'dead-letter-producer');
            const consumer = jobEventsConsumer({
              kafka,
              groupId: c.consumerGroup,
              topics: settings.topics,
              producer,
              jobs,
              alerts,
              log: (level, fields) => logger.eventAt(level, fields),
              metrics,
            });
            registry.add('events-consumer', () => consumer.stop());
            await consumer.start();
            return consumer;
          },
        },
        {
          // Jobs by state and jobs needing a resync, counted on each scrape of /metrics.
          provide: JOB_METRICS,
          inject: [JOB_REPOSITORY, SERVICE_METRICS],
          useFactory: (jobs: JobRepository, metrics: ServiceMetrics) => {
            metrics.watchJobs(() => countJobs(jobs));
            return jobs;
          },
        },
        {
          // The Backup page's files, read once: a job-state without them refuses to start.
          provide: PAGE_ASSETS,
          useFactory: () => loadPageAssets(),
        },
        {
          // The page's live view: one shared poll per watched project, stopped at shutdown.
          provide: PROJECT_FEED,
          inject: [JobService, RestoreService, SERVICE_LOGGER, ConnectionRegistry],
          useFactory: (
            jobs: JobService,
            restores: RestoreService,
            logger: JsonLogger,
            registry: ConnectionRegistry,
          ) => {
            const feed = new ProjectFeed<ProjectView>({
              load: (project) => loadProjectView(jobs, restores, project),
              intervalMs: settings.uiPollMs,
              maxSubscribers: settings.uiMaxStreams,
              onError: (project, err) =>
                logger.eventAt('warn', {
                  event: 'project-view-failed',
                  project,
                  reason: err instanceof Error ? err.message : String(err),
                }),
            });
            registry.add('project-feed', async () => feed.close());
            return feed;
          },
        },
        {
          provide: EffectsFlusher,
          inject: [JobService, SERVICE_LOGGER],
          useFactory: (jobs: JobService, logger: JsonLogger) =>
            new EffectsFlusher(jobs, logger, settings.effectsFlushMs),
        },
        {
          provide: RestoreReaper,
          inject: [RestoreService, SERVICE_LOGGER],
          useFactory: (restores: RestoreService, logger: JsonLogger) =>
            new RestoreReaper(restores, logger, settings.restoreReapMs),
        },
      ],
    };
  }
}

/** An idempotent producer, connected now and closed at shutdown (as `name` in the `connection-closed` lines). */
async function connectedProducer(
  kafka: Kafka,
  registry: ConnectionRegistry,
  name: string,
): Promise<Producer> {
  const producer = producerFor(kafka);
  await producer.connect();
  registry.add(name, () => producer.disconnect());
  return producer;
}
