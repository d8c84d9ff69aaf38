/**
 * Starts a service shell: creates the Nest application with the JSON logger, enables shutdown hooks
 * (SIGTERM/SIGINT: stop consumers, close connections, exit 0), runs `configure` (e.g. to connect a Kafka
 * microservice), starts microservices, listens, and logs `{"service":...,"event":"ready","port":...}`.
 */
import type { AddressInfo } from 'node:net';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JsonLogger } from './json-logger';
import { resolveListenAddress } from './listen-address';
import { MetricsModule } from './metrics/metrics.module';
import type { ServiceName } from './service-name';

/** The module `bootstrapService` creates: the app's module and the metrics. */
@Module({})
class ServiceRootModule {}

export interface BootstrapOptions {
  readonly name: ServiceName;
  /** The app's root module (a class or `AppModule.forRoot(config)`). */
  readonly module: Type<unknown> | DynamicModule;
  /** Port when `PORT` is unset; default `DEFAULT_PORTS[name]`. */
  readonly port?: number;
  /** Runs after the app is created and before it listens, e.g. `app.connectMicroservice(...)`. */
  readonly configure?: (app: INestApplication) => void | Promise<void>;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningService {
  readonly app: INestApplication;
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
  /** `http://<host>:<port>` for clients in the same network namespace. */
  readonly url: string;
}

export async function bootstrapService(options: BootstrapOptions): Promise<RunningService> {
  const { name, module, configure } = options;
  const listen = resolveListenAddress(name, options.env ?? process.env, options.port);
  const logger = new JsonLogger(name);
  // Every service serves GET /metrics (`MetricsModule`, global: the app injects SERVICE_METRICS to feed it).
  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [module, MetricsModule.forService(name)],
  };
  const app = await NestFactory.create(root, {
    logger,
    // Startup failures reject here instead of aborting the process, so the caller decides the exit code.
    abortOnError: false,
    // Open keep-alive HTTP connections must not hold up shutdown past the grace period.
    forceCloseConnections: true,
  });
  try {
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    await configure?.(app);
    await app.startAllMicroservices();
    await app.listen(listen.port, listen.host);
  } catch (err) {
    await app.close().catch((closeErr: unknown) => {
      logger.error(`closing after a failed start: ${(closeErr as Error).message}`, 'bootstrapService');
    });
    throw err;
  }
  const address = app.getHttpServer().address() as AddressInfo;
  logger.event({ event: 'ready', port: address.port });
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  return {
    app,
    port: address.port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
  };
}

/**
 * For `main.ts`: `bootstrapService(...).catch(exitOnStartupFailure('agent'))`. Logs one JSON line
 * `{"service":...,"event":"startup-failed","error":...}` and exits with code 1 (open connections would
 * otherwise keep the process alive).
 */
export function exitOnStartupFailure(name: ServiceName): (err: unknown) => never {
  return (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    new JsonLogger(name).event({
      event: 'startup-failed',
      error: e.message,
      errorName: e.name,
      stack: e.stack,
    });
    process.exit(1);
  };
}
