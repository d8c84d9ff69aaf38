/**
 * What slice-ingest does with one message of `tidemark.slices.initial` / `tidemark.slices.oplog`, under the bus's
 * `CommittingConsumer` (which commits `offset + 1` only after this resolves, and holds the message back when it
 * throws: retried after a backoff if retriable, the partition halted and readiness failed if not):
 *
 * 1. stored / duplicate: the slice is in the oplog store and its `SliceStored` was acknowledged -> resolve.
 * 2. rejected: the message was dead-lettered to `<topic>.dlq` with the reason AND `AlertRaised{SLICE_REJECTED}`
 *    was acknowledged -> resolve. (A crash before the commit repeats both; duplicates are harmless.)
 * 3. anything else throws, and nothing is committed.
 */
import type { Producer } from 'kafkajs';
import {
  alertRaisedRecord,
  deadLetter,
  publish,
  type ConsumedMessage,
  type SliceProduced,
  type Topic,
  type Topics,
} from '@tidemark/bus';
import { TidemarkError } from '@tidemark/domain';
import {
  messageSource,
  sliceRejectedAlert,
  type IngestOutcome,
  type SliceIngestor,
  type SliceMessage,
  type SliceRejected,
} from '@tidemark/ingest';
import type { JsonLogger, ServiceMetrics } from '@tidemark/service-shell';

const CONTEXT = 'SliceIngest';

/** Seams for tests. Production passes none. */
export interface SliceIngestHooks {
  /**
   * Runs after a message's effect is durable and before its offset is committed. Throwing simulates a crash at
   * exactly that point: the message stays uncommitted (a retriable error redelivers it after the backoff, a
   * fatal one halts the partition until restart).
   */
  readonly beforeCommit?: (message: SliceMessage, outcome: IngestOutcome) => void | Promise<void>;
}

export interface SliceIngestHandlerDeps {
  /** Connected idempotent producer (dead letters and alerts; the ingestor publishes claim checks with it). */
  readonly producer: Producer;
  readonly ingestor: SliceIngestor<SliceProduced>;
  readonly topics: Pick<Topics, 'slicesInitial' | 'slicesOplog' | 'alerts'>;
  readonly logger: JsonLogger;
  /** Counts each settled slice (kind, outcome, documents, bytes) and when a job's oplog slice was last stored. */
  readonly metrics: Pick<ServiceMetrics, 'slices' | 'oplogSliceStored'>;
  readonly hooks?: SliceIngestHooks;
}

export class SliceIngestHandler {
  private readonly sources: ReadonlyMap<string, Topic>;

  constructor(private readonly deps: SliceIngestHandlerDeps) {
    const { slicesInitial, slicesOplog } = deps.topics;
    this.sources = new Map<string, Topic>([
      [slicesInitial.name, slicesInitial],
      [slicesOplog.name, slicesOplog],
    ]);
  }

  /** The topics it reads. */
  get topics(): Topic[] {
    return [...this.sources.values()];
  }

  /** One message, top to bottom: ingest, settle a rejection; resolves once the effect is durable. */
  async handle(consumed: ConsumedMessage): Promise<void> {
    const message: SliceMessage = consumed;
    const outcome = await this.deps.ingestor.ingest(message);
    if (outcome.kind === 'rejected') await this.deadLetterAndAlert(consumed, outcome);
    await this.deps.hooks?.beforeCommit?.(message, outcome);
    this.logOutcome(message, outcome);
    this.count(consumed, outcome);
  }

  /** Metrics of a settled slice; a rejected one counts under its topic's kind, with its message's size. */
  private count(message: ConsumedMessage, outcome: IngestOutcome): void {
    const { metrics, topics } = this.deps;
    if (outcome.kind === 'rejected') {
      const kind = message.topic === topics.slicesOplog.name ? 'oplog' : 'initial';
      metrics.slices(kind, 'rejected', 1, 0, message.value?.length ?? 0);
      return;
    }
    const { meta } = outcome;
    metrics.slices(meta.kind, outcome.kind, 1, meta.docCount, meta.compressedBytes);
    if (meta.kind === 'oplog') metrics.oplogSliceStored(meta.jobId, new Date());
  }

  /** Dead letter first (the evidence), then the alert (the consequence); both acknowledged before the commit. */
  private async deadLetterAndAlert(message: ConsumedMessage, rejected: SliceRejected): Promise<void> {
    const source = this.sources.get(message.topic);
    if (source === undefined) {
      throw new TidemarkError(`no dead-letter topic for ${message.topic}`, { retriable: false });
    }
    await deadLetter(this.deps.producer, source, { partition: message.partition, message }, rejected.reason);
    const alert = alertRaisedRecord(sliceRejectedAlert(message, rejected, new Date()));
    const { alerts } = this.deps.topics;
    await publish(this.deps.producer, alerts, alert);
  }

  private logOutcome(message: SliceMessage, outcome: IngestOutcome): void {
    const source = messageSource(message);
    if (outcome.kind === 'rejected') {
      this.deps.logger.warn(
        {
          event: 'slice-rejected',
          source,
          jobId: outcome.jobId,
          sliceId: outcome.sliceId,
          reason: outcome.reason,
        },
        CONTEXT,
      );
      return;
    }
    const { meta } = outcome;
    this.deps.logger.log(
      { event: `slice-${outcome.kind}`, source, jobId: meta.jobId, sliceId: meta.sliceId, kind: meta.kind },
      CONTEXT,
    );
  }
}
