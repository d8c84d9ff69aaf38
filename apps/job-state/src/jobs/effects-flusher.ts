/**
 * Sends what jobs still owe the pipeline (outbox commands, retained backups to delete) in the background: once at
 * start-up (a crash may have left some) and then every `TIDEMARK_EFFECTS_FLUSH_MS` (default 10 s). A failed round
 * is logged with its reason and retried at the next tick; nothing is dropped (the effects stay in the jobs).
 */
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { describeError } from '@tidemark/domain';
import type { JobService } from '@tidemark/jobs';
import type { JsonLogger } from '@tidemark/service-shell';

export const DEFAULT_EFFECTS_FLUSH_MS = 10_000;

export class EffectsFlusher implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly jobs: JobService,
    private readonly logger: JsonLogger,
    private readonly intervalMs: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.flush();
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** One round; rounds never overlap. */
  flush(): Promise<void> {
    if (this.running !== undefined) return this.running;
    this.running = (async () => {
      try {
        const flushed = await this.jobs.flushAllEffects();
        if (flushed > 0) this.logger.event({ event: 'job-effects-flushed', jobs: flushed });
      } catch (err) {
        this.logger.event({ event: 'job-effects-pending', reason: describeError(err) });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
