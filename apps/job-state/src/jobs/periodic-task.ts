/**
 * A round of background work run once at start-up and then every `intervalMs`; rounds never overlap, and the last
 * one is awaited at shutdown. The round handles and logs its own failures (a throw is caught and logged as
 * `<name>-failed`), so one failed round never stops the next.
 */
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { describeError } from '@tidemark/domain';
import type { JsonLogger } from '@tidemark/service-shell';

export class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly round: () => Promise<void>,
    private readonly logger: JsonLogger,
    private readonly intervalMs: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** One round, or the one already running. */
  runOnce(): Promise<void> {
    if (this.running !== undefined) return this.running;
    this.running = (async () => {
      try {
        await this.round();
      } catch (err) {
        this.logger.event({ event: `${this.name}-failed`, reason: describeError(err) });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
