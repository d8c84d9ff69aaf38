/**
 * Keeps one job's oplog shipping alive: runs an {@link OplogShipper} and, after a retriable failure (Kafka or the
 * source unreachable for longer than the tail's own resume covers), starts a new one from the last acknowledged
 * position, after a backoff. A gap (`OplogGapError`) raises `RESYNC_REQUIRED` ("backup requires a resync") and
 * stops tailing the job; any other failure raises `OPLOG_TAIL_FAILED` and stops it too. Nothing is skipped.
 */
import { randomUUID } from 'node:crypto';
import {
  ALERT_CODES,
  describeError,
  formatOpTime,
  opTimeEquals,
  OplogGapError,
  type Alert,
  type OpTime,
  type StageMetrics,
} from '@tidemark/domain';
import { hasRetriableFlag, sleep } from '@tidemark/util';
import { failureAlert, publishAlertOrLog, resyncRequiredAlert } from './alerts';
import { OplogShipper, type OplogShipperDeps } from './oplog-shipper';
import { silentLogger, type AgentLogger, type SourceReader } from './ports';
import type { SyncJob } from './sync-job';

/** How a job's tailing ended. */
export type TailEnd = 'stopped' | 'resync-required' | 'failed';

/** A running tail. */
export interface RunningTail {
  /** Settles when tailing ended; never rejects. */
  readonly done: Promise<TailEnd>;
  /** `lastTs` of the newest acknowledged oplog slice. */
  shippedTs(): OpTime;
  /** Newest source position seen. */
  sourceTs(): OpTime;
}

export interface TailKeeperDeps extends OplogShipperDeps {
  readonly source: SourceReader;
  readonly logger?: AgentLogger;
  readonly newId?: () => string;
  /** Counts each failure of the tail by error class: a restart (retriable), a gap or a stop (fatal). */
  readonly metrics?: Pick<StageMetrics, 'failure'>;
}

export class TailKeeper {
  constructor(private readonly deps: TailKeeperDeps) {}

  /** Starts tailing `job` after `fromTs` (exclusive); stops when `signal` aborts. */
  start(job: SyncJob, fromTs: OpTime, signal: AbortSignal): RunningTail {
    let shipper = new OplogShipper(this.deps, job, fromTs);
    const logger = this.deps.logger ?? silentLogger;
    const newId = this.deps.newId ?? randomUUID;
    const restartBackoff = this.deps.settings.tailRestart;
    const loop = async (): Promise<TailEnd> => {
      logger.event({
        event: 'tail-started',
        jobId: job.jobId,
        syncId: job.syncId,
        from: formatOpTime(fromTs),
      });
      for (let failures = 0; ;) {
        const before = shipper.shippedTs;
        try {
          await shipper.run(this.deps.source, job.filters, signal);
          return 'stopped';
        } catch (err) {
          if (signal.aborted) return 'stopped';
          const retriable = !(err instanceof OplogGapError) && hasRetriableFlag(err);
          this.deps.metrics?.failure(err, retriable);
          if (err instanceof OplogGapError) {
            logger.event({
              event: 'tail-gap',
              jobId: job.jobId,
              syncId: job.syncId,
              error: describeError(err),
            });
            await this.alert(resyncRequiredAlert(newId(), err, job.syncId), logger);
            return 'resync-required';
          }
          if (!retriable) {
            logger.event({
              event: 'tail-failed',
              jobId: job.jobId,
              syncId: job.syncId,
              error: describeError(err),
            });
            await this.alert(
              failureAlert(newId(), ALERT_CODES.tailFailed, job.jobId, 'oplog tailing stopped', err, {
                syncId: job.syncId,
                shippedTs: formatOpTime(shipper.shippedTs),
              }),
              logger,
            );
            return 'failed';
          }
          failures = opTimeEquals(shipper.shippedTs, before) ? failures + 1 : 1;
          const delayMs = restartBackoff.delayMs(failures);
          logger.event({
            event: 'tail-restart',
            jobId: job.jobId,
            syncId: job.syncId,
            from: formatOpTime(shipper.shippedTs),
            delayMs,
            error: describeError(err),
          });
          try {
            await sleep(delayMs, signal);
          } catch {
            return 'stopped';
          }
          shipper = new OplogShipper(this.deps, job, shipper.shippedTs);
        }
      }
    };
    const done = loop();
    return { done, shippedTs: () => shipper.shippedTs, sourceTs: () => shipper.sourceTs };
  }

  /** Publishes an alert; a final failure is logged, not thrown: the tail has ended either way. */
  private async alert(alert: Alert, logger: AgentLogger): Promise<void> {
    await publishAlertOrLog(this.deps.publisher, alert, logger);
  }
}
