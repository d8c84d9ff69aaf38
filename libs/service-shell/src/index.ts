/**
 * @tidemark/service-shell (type:shell): the NestJS shell every Tidemark service shares: bootstrap (logger, shutdown
 * hooks, listen, ready line), connections opened at start-up and closed at shutdown, and health probes.
 */
import 'reflect-metadata';

export { SERVICE_NAMES, DEFAULT_PORTS, type ServiceName } from './service-name';
export { intFromEnv, loadServiceConfig, ServiceConfigError, type ServiceConfig } from './service-config';
export { resolveListenAddress, type ListenAddress } from './listen-address';
export { JsonLogger } from './json-logger';
export {
  bootstrapService,
  exitOnStartupFailure,
  type BootstrapOptions,
  type RunningService,
} from './bootstrap-service';
export * from './tokens';
export { ConnectionsModule, type ConnectionsOptions } from './connections/connections.module';
export {
  ConnectionRegistry,
  CLOSE_TIMEOUT_MS,
  type RegisteredConnection,
} from './connections/connection-registry';
export { topicsUsedBy } from './connections/service-topics';
export { HealthModule } from './health/health.module';
export { HealthController } from './health/health.controller';
export { PUBLIC_ROUTE, PublicRoute } from './public-route';
export { Readiness, type ReadinessReport } from './health/readiness';
export { kafkaCheck, mongoCheck, s3Check } from './health/checks';
export type { DependencyCheck, DependencyCheckProvider } from './health/dependency-check';
export { isRetriableError } from './retriable';
export { pipelineCheck, type PipelineHealth } from './health/pipeline-check';
export { PipelineStageModule, connectedProducer, type PipelineStage } from './pipeline-stage.module';
export { MetricsModule } from './metrics/metrics.module';
export {
  ServiceMetrics,
  METRIC_NAMES,
  METRIC_PREFIX,
  errorClass,
  type CapturePosition,
  type PartitionLagSample,
} from './metrics/service-metrics';
export { PhaseTimer, type PhaseEnded } from './metrics/phase-timer';
