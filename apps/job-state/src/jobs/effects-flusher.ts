/**
 * Sends what jobs still owe the pipeline (outbox commands, retained backups to delete) in the background: once at
 * start-up (a crash may have left some) and then every `TIDEMARK_EFFECTS_FLUSH_MS` (default 10 s). A failed round
 * is logged with its reason and retried at the next tick; nothing is dropped (the effects stay in the jobs).
 */
import { describeError } from '@tidemark/domain';
import type { JobService } from '@tidemark/jobs';
import type { JsonLogger } from '@tidemark/service-shell';
import { PeriodicTask } from './periodic-task';

export const DEFAULT_EFFECTS_FLUSH_MS = 10_000;

export class EffectsFlusher extends PeriodicTask {
  constructor(jobs: JobService, logger: JsonLogger, intervalMs: number) {
    super(
      'job-effects',
      async () => {
        try {
          const flushed = await jobs.flushAllEffects();
          if (flushed > 0) logger.event({ event: 'job-effects-flushed', jobs: flushed });
        } catch (err) {
          logger.event({ event: 'job-effects-pending', reason: describeError(err) });
        }
      },
      logger,
      intervalMs,
    );
  }
}
