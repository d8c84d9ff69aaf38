/**
 * The agent's pipeline in the Nest shell: after start-up (in the background, so health probes answer meanwhile) it
 * connects its producer, runs the start-up recovery against job-state (retrying until job-state answers), then
 * consumes `tidemark.commands`. On shutdown it stops consuming, stops every job's scan and tail, and closes its
 * producer and source connections, before the shell closes the shared connections.
 */
import { randomUUID } from 'node:crypto';
import { Inject, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import {
  AgentSupervisor,
  CommandHandler,
  pollReadLimits,
  recoverJobs,
  failureAlert,
  type SlicePublisher,
  type StartupSnapshot,
} from '@tidemark/capture';
import { KafkaSlicePublisher, producerFor } from '@tidemark/bus';
import { ALERT_CODES, describeError } from '@tidemark/domain';
import { HttpJobStateClient } from '@tidemark/job-state-client';
import {
  KAFKA,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type JsonLogger,
  type ServiceConfig,
  type ServiceMetrics,
} from '@tidemark/service-shell';
import { AGENT_STARTUP, sleep } from '@tidemark/util';
import type { AgentEnv } from './agent-env';
import { commandConsumer, type CommandConsumer } from './command-consumer';
import { MeteredSlicePublisher } from './metered-slice-publisher';
import { SourceRegistry } from './source-registry';

/** Injection token of the agent's `AgentEnv`. */
export const AGENT_ENV = Symbol('tidemark.agent-env');

export class AgentPipeline implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly stopping = new AbortController();
  private readonly sources: SourceRegistry;
  private readonly producer: Producer;
  private readonly publisher: SlicePublisher;
  readonly supervisor: AgentSupervisor;
  private consumer: CommandConsumer | undefined;
  private running: Promise<void> | undefined;
  /** The read-limit poll (`pollReadLimits`), once the recovery is done; ends when the agent stops. */
  private polling: Promise<void> | undefined;
  /** Resolves once commands are being consumed (for tests and logs). */
  readonly started: Promise<StartupSnapshot>;
  private markStarted!: (snapshot: StartupSnapshot) => void;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(SERVICE_LOGGER) private readonly logger: JsonLogger,
    @Inject(AGENT_ENV) private readonly env: AgentEnv,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.started.catch(() => undefined);
    this.sources = new SourceRegistry({ appName: config.mongoAppName, credentials: env.sourceCredentials });
    this.producer = producerFor(kafka);
    this.publisher = new MeteredSlicePublisher(
      new KafkaSlicePublisher(this.producer, config.topics),
      metrics,
    );
    this.supervisor = new AgentSupervisor({
      sourceFor: (uri) => this.sources.sourceFor(uri),
      publisher: this.publisher,
      settings: env.settings,
      logger,
      metrics,
    });
    metrics.watchCapture(() => this.supervisor.capturePositions());
  }

  onApplicationBootstrap(): void {
    this.running = this.run().catch((err: unknown) => {
      if (!this.stopping.signal.aborted)
        this.logger.event({ event: 'agent-pipeline-failed', error: describeError(err) });
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort(new Error('agent stopping'));
    await this.consumer
      ?.stop()
      .catch((err: unknown) =>
        this.logger.event({ event: 'consumer-stop-failed', error: describeError(err) }),
      );
    await this.running; // the start-up sequence stops at its next step
    await this.polling;
    await this.supervisor.stopAll();
    await this.producer.disconnect().catch(() => undefined);
    await this.sources.closeAll();
    this.logger.event({ event: 'agent-pipeline-stopped' });
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    await this.untilDone('connect the producer', () => this.producer.connect());
    const jobState = new HttpJobStateClient(this.env.apiUrl, {
      serviceToken: this.env.serviceToken,
      signal,
    });
    const resyncsRequested = new Set<string>();
    const { snapshot, actions } = await this.untilDone('start-up recovery', () =>
      recoverJobs({
        jobState,
        supervisor: this.supervisor,
        publisher: this.publisher,
        logger: this.logger,
        resyncsRequested,
        signal,
      }),
    );
    this.logger.event({ event: 'recovery-done', actions });
    if (signal.aborted) return;
    // Read limits changed through the API reach running syncs within one poll (resumed tails began with theirs).
    // ... and job-state learns where each running job's capture is (the source's newest position: lag, alerts).
    this.polling = pollReadLimits({
      jobState,
      limits: this.supervisor.readLimits,
      capture: () => this.supervisor.capturePositions(),
      intervalMs: this.env.settings.settingsPollMs,
      signal,
      logger: this.logger,
    });
    const handler = new CommandHandler(
      {
        supervisor: this.supervisor,
        sourceFor: (uri) => this.sources.sourceFor(uri),
        publisher: this.publisher,
        defaultSourceUri: this.config.endpoints.source.uri,
        logger: this.logger,
      },
      snapshot,
    );
    this.consumer = commandConsumer(this.kafka, {
      groupId: this.config.consumerGroup,
      topic: this.config.topics.commands,
      handler,
      producer: this.producer,
      log: (level, fields) => this.logger.eventAt(level, fields),
      metrics: this.metrics,
      onUndecodable: (source, reason) =>
        this.publisher.publishAlert(
          failureAlert(
            randomUUID(),
            ALERT_CODES.commandFailed,
            null,
            `undecodable command at ${source}, dead-lettered`,
            reason,
            { source },
          ),
        ),
    });
    await this.consumer.start();
    this.logger.event({ event: 'agent-consuming-commands', groupId: this.config.consumerGroup });
    this.markStarted(snapshot);
  }

  /** Retries `fn` with backoff until it succeeds or the agent stops (a dependency that is down at start-up). */
  private async untilDone<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping.signal.aborted) throw err;
        const delayMs = AGENT_STARTUP.delayMs(attempt);
        this.logger.event({
          event: 'agent-startup-retry',
          what,
          attempt,
          delayMs,
          error: describeError(err),
        });
        await sleep(delayMs, this.stopping.signal);
      }
    }
  }
}
