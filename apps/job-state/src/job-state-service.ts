/**
 * Starts job-state: a Nest application serving the REST API and probes over HTTP and consuming `tidemark.phases`
 * and `tidemark.alerts` with the bus's consumer loop (`bus/job-events.consumer.ts`). `main.ts` runs it; the
 * integration tests run it in-process with their own topic prefix and databases.
 */
import { accessCredentialsFromEnv, DEFAULT_KEY_GUESS_LIMITS } from '@tidemark/access';
import {
  DEFAULT_ALERT_THRESHOLDS,
  DEFAULT_PROGRESS_EVENT_MS,
  DEFAULT_RESTORE_ABANDON_MS,
} from '@tidemark/jobs';
import { DEFAULT_OPLOG_STORE_DB } from '@tidemark/oplog-store';
import {
  bootstrapService,
  intFromEnv,
  loadServiceConfig,
  type RunningService,
} from '@tidemark/service-shell';
import { AppModule, type JobStateSettings } from './app.module';
import { DEFAULT_AUDIT_FLUSH_MS } from './audit/audit-flusher';
import { configureApi } from './openapi/api-body';
import { DEFAULT_EFFECTS_FLUSH_MS } from './jobs/effects-flusher';
import { DEFAULT_RESTORE_REAP_MS } from './jobs/restore-reaper';
import { DEFAULT_ALERT_CLOSED_RETENTION_MS, DEFAULT_ALERT_EVAL_MS } from './jobs/alert-evaluator';

export async function startJobState(env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const config = loadServiceConfig('job-state', env);
  // Before anything connects: job-state refuses to start without its admin key and service token.
  const credentials = accessCredentialsFromEnv(env);
  const settings: JobStateSettings = {
    topics: {
      phases: config.topics.phases,
      alerts: config.topics.alerts,
      snapshots: config.topics.snapshots,
    },
    oplogStoreDb: env['TIDEMARK_OPLOG_STORE_DB'] || DEFAULT_OPLOG_STORE_DB,
    effectsFlushMs: intFromEnv(env, 'TIDEMARK_EFFECTS_FLUSH_MS', DEFAULT_EFFECTS_FLUSH_MS, 100, 3_600_000),
    restoreProgressEventMs: intFromEnv(
      env,
      'TIDEMARK_RESTORE_PROGRESS_EVENT_MS',
      DEFAULT_PROGRESS_EVENT_MS,
      0,
      3_600_000,
    ),
    restoreAbandonMs: intFromEnv(
      env,
      'TIDEMARK_RESTORE_ABANDON_MS',
      DEFAULT_RESTORE_ABANDON_MS,
      1_000,
      86_400_000,
    ),
    restoreReapMs: intFromEnv(env, 'TIDEMARK_RESTORE_REAP_MS', DEFAULT_RESTORE_REAP_MS, 100, 3_600_000),
    auditFlushMs: intFromEnv(env, 'TIDEMARK_AUDIT_FLUSH_MS', DEFAULT_AUDIT_FLUSH_MS, 100, 3_600_000),
    keyGuessLimits: {
      maxFailures: intFromEnv(
        env,
        'TIDEMARK_AUTH_FAILURE_LIMIT',
        DEFAULT_KEY_GUESS_LIMITS.maxFailures,
        1,
        1_000_000,
      ),
      windowMs: intFromEnv(
        env,
        'TIDEMARK_AUTH_FAILURE_WINDOW_MS',
        DEFAULT_KEY_GUESS_LIMITS.windowMs,
        1_000,
        86_400_000,
      ),
    },
    uiPollMs: intFromEnv(env, 'TIDEMARK_UI_POLL_MS', 1_000, 100, 600_000),
    uiMaxStreams: intFromEnv(env, 'TIDEMARK_UI_MAX_STREAMS', 100, 1, 10_000),
    alertThresholds: {
      oplogBehindMs: intFromEnv(
        env,
        'TIDEMARK_ALERT_OPLOG_BEHIND_MS',
        DEFAULT_ALERT_THRESHOLDS.oplogBehindMs,
        1_000,
        7 * 86_400_000,
      ),
      lagHighSeconds: intFromEnv(
        env,
        'TIDEMARK_ALERT_LAG_HIGH_SECONDS',
        DEFAULT_ALERT_THRESHOLDS.lagHighSeconds,
        1,
        7 * 86_400,
      ),
      stageIdleMs: intFromEnv(
        env,
        'TIDEMARK_ALERT_STAGE_IDLE_MS',
        DEFAULT_ALERT_THRESHOLDS.stageIdleMs,
        1_000,
        7 * 86_400_000,
      ),
    },
    alertEvalMs: intFromEnv(env, 'TIDEMARK_ALERT_EVAL_MS', DEFAULT_ALERT_EVAL_MS, 100, 3_600_000),
    alertClosedRetentionMs: intFromEnv(
      env,
      'TIDEMARK_ALERT_CLOSED_RETENTION_MS',
      DEFAULT_ALERT_CLOSED_RETENTION_MS,
      60_000,
      366 * 86_400_000,
    ),
    credentials,
  };
  return bootstrapService({
    name: 'job-state',
    module: AppModule.forRoot(config, settings),
    // JSON bodies (size, depth), error answers, and the OpenAPI document of the API's controllers.
    configure: (app) => configureApi(app, [AppModule]),
    env,
  });
}
