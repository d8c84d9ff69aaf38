/**
 * Publishes the audit events still owed to the bus (`AuditLog.flushOwed`: events stored while Kafka was
 * unreachable, or just before a crash), oldest first, at start-up and every `TIDEMARK_AUDIT_FLUSH_MS` (default
 * 10 s); logs `audit-events-flushed` / `audit-events-pending`. At shutdown it waits for a publish under way.
 */
import type { AuditLog } from '@tidemark/access';
import { describeError } from '@tidemark/domain';
import type { JsonLogger } from '@tidemark/service-shell';
import { PeriodicTask } from '../jobs/periodic-task';

export const DEFAULT_AUDIT_FLUSH_MS = 10_000;

export class AuditFlusher extends PeriodicTask {
  constructor(
    private readonly log: AuditLog,
    logger: JsonLogger,
    intervalMs: number,
  ) {
    super(
      'audit-flush',
      async () => {
        try {
          const flushed = await log.flushOwed();
          if (flushed > 0) logger.event({ event: 'audit-events-flushed', events: flushed });
        } catch (err) {
          logger.event({ event: 'audit-events-pending', reason: describeError(err) });
        }
      },
      logger,
      intervalMs,
    );
  }

  override async onModuleDestroy(): Promise<void> {
    await super.onModuleDestroy();
    await this.log.idle();
  }
}
