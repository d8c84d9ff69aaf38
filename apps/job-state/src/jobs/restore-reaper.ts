/**
 * Records abandoned restores failed (`RestoreService.reapAbandoned`): a `tidemark restore` killed or cut off from
 * job-state stops reporting, and after the abandon time (`TIDEMARK_RESTORE_ABANDON_MS`, default 2 min) its record
 * is ended failed with a FAILED event, even when nobody reads it. Then publishes the events restores still owe the
 * bus (`RestoreService.flushUnpublished`: changes recorded while Kafka was unreachable, or just before a crash).
 * Every `TIDEMARK_RESTORE_REAP_MS` (default 30 s).
 */
import { describeError } from '@tidemark/domain';
import type { RestoreService } from '@tidemark/jobs';
import type { JsonLogger } from '@tidemark/service-shell';
import { PeriodicTask } from './periodic-task';

export const DEFAULT_RESTORE_REAP_MS = 30_000;

export class RestoreReaper extends PeriodicTask {
  constructor(restores: RestoreService, logger: JsonLogger, intervalMs: number) {
    super(
      'restore-reap',
      async () => {
        for (const r of await restores.reapAbandoned()) {
          logger.event({
            event: 'restore-abandoned',
            restoreId: r.restoreId,
            jobId: r.jobId,
            reason: r.reason,
          });
        }
        try {
          const flushed = await restores.flushUnpublished();
          if (flushed > 0) logger.event({ event: 'restore-events-flushed', restores: flushed });
        } catch (err) {
          logger.event({ event: 'restore-events-pending', reason: describeError(err) });
        }
      },
      logger,
      intervalMs,
    );
  }
}
