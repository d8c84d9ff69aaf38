/**
 * The slice-ingest consumer loop: plain kafkajs (`consumerFor` of `@tidemark/bus`), `autoCommit: false`, one
 * message at a time per partition (kafkajs `eachMessage`), several partitions at once. Each message ends in one
 * of three ways, and the offset `offset + 1` is committed only in the first two, only after the effect is durable:
 *
 * 1. stored / duplicate: the slice is in the oplog store and its `SliceStored` was acknowledged -> commit.
 * 2. rejected: the message was dead-lettered to `<topic>.dlq` with the reason AND `AlertRaised{SLICE_REJECTED}`
 *    was acknowledged -> commit. (A crash before the commit repeats both; duplicates are harmless.)
 * 3. thrown: nothing is committed. The partition is paused and sought back to the message:
 *    - retriable error: resumed after a backoff, so the message is redelivered;
 *    - fatal error: stays paused; the `pipeline` readiness check reports it (HTTP 503 with the reason) and the
 *      error is logged once, clearly. Other partitions keep going. A restart redelivers the message.
 */
import type { Consumer, EachMessagePayload, Producer } from 'kafkajs';
import {
  deadLetter,
  KafkaOperationError,
  publish,
  toKafkaOperationError,
  type SliceProduced,
  type Topic,
  type Topics,
} from '@tidemark/bus';
import { describeError, isRetriable, TidemarkError } from '@tidemark/domain';
import {
  messageSource,
  sliceRejectedAlert,
  type IngestOutcome,
  type SliceIngestor,
  type SliceMessage,
  type SliceRejected,
} from '@tidemark/ingest';
import type { JsonLogger } from '@tidemark/shell';
import { alertRaisedRecord } from './bus-records';
import type { PartitionBackoff } from './partition-backoff';

const CONTEXT = 'SliceIngestConsumer';

/** Seams for tests. Production passes none. */
export interface SliceIngestHooks {
  /**
   * Runs after a message's effect is durable and before its offset is committed. Throwing simulates a crash at
   * exactly that point: the message stays uncommitted (a retriable error redelivers it after the backoff, a
   * fatal one halts the partition until restart).
   */
  readonly beforeCommit?: (message: SliceMessage, outcome: IngestOutcome) => void | Promise<void>;
}

export interface SliceIngestConsumerDeps {
  /** From `consumerFor(kafka, { groupId, topics: [slicesInitial, slicesOplog] })`. */
  readonly consumer: Consumer;
  /** Connected idempotent producer (dead letters and alerts; the ingestor publishes claim checks with it). */
  readonly producer: Producer;
  readonly ingestor: SliceIngestor<SliceProduced>;
  readonly topics: Pick<Topics, 'slicesInitial' | 'slicesOplog' | 'alerts'>;
  readonly logger: JsonLogger;
  /** Partitions handled at once. */
  readonly concurrency: number;
  readonly backoff: PartitionBackoff;
  readonly hooks?: SliceIngestHooks;
}

/** Errors a commit can meet because the group rebalanced: the message is simply read again by its new owner. */
const REBALANCE_ERROR_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

export class SliceIngestConsumer {
  private readonly sources: ReadonlyMap<string, Topic>;
  /** Partitions stopped by a fatal error, `<topic>/<partition>` -> why. */
  private readonly halted = new Map<string, string>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private crashed: string | undefined;
  private running = false;

  constructor(private readonly deps: SliceIngestConsumerDeps) {
    const { slicesInitial, slicesOplog } = deps.topics;
    this.sources = new Map<string, Topic>([
      [slicesInitial.name, slicesInitial],
      [slicesOplog.name, slicesOplog],
    ]);
  }

  /** Joins the group and starts consuming both slices topics (from the beginning for a new group). */
  async start(): Promise<void> {
    const { consumer, concurrency } = this.deps;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const error = describeError(payload.error);
      if (payload.restart) {
        this.deps.logger.warn({ event: 'consumer-crashed', restart: true, error }, CONTEXT);
        return;
      }
      this.crashed = `the Kafka consumer stopped: ${error}`;
      this.deps.logger.error({ event: 'consumer-crashed', restart: false, error }, CONTEXT);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.sources.keys()], fromBeginning: true });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: concurrency,
      eachMessage: (payload) => this.handle(payload),
    });
  }

  /** Leaves the group after the messages in flight are handled; nothing uncommitted is lost (it is redelivered). */
  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    await this.deps.consumer.disconnect();
  }

  /** Why the pipeline cannot make progress, one line per problem; empty while healthy. */
  problems(): string[] {
    const halted = [...this.halted.values()].map((why) => `halted ${why}`);
    return this.crashed === undefined ? halted : [this.crashed, ...halted];
  }

  /** One message, top to bottom: ingest, settle a rejection, commit. */
  private async handle(payload: EachMessagePayload): Promise<void> {
    const message = sliceMessageOf(payload);
    try {
      const outcome = await this.deps.ingestor.ingest(message);
      if (outcome.kind === 'rejected') await this.deadLetterAndAlert(payload, message, outcome);
      await this.deps.hooks?.beforeCommit?.(message, outcome);
      await this.commitAfter(message);
      this.deps.backoff.reset(partitionKey(message));
      this.logOutcome(message, outcome);
    } catch (err) {
      this.holdBack(payload, err);
    }
  }

  /** Dead letter first (the evidence), then the alert (the consequence); both acknowledged before the commit. */
  private async deadLetterAndAlert(
    payload: EachMessagePayload,
    message: SliceMessage,
    rejected: SliceRejected,
  ): Promise<void> {
    const source = this.sources.get(message.topic);
    if (source === undefined) {
      throw new TidemarkError(`no dead-letter topic for ${message.topic}`, { retriable: false });
    }
    await deadLetter(
      this.deps.producer,
      source,
      { partition: payload.partition, message: payload.message },
      rejected.reason,
    );
    const alert = alertRaisedRecord(sliceRejectedAlert(message, rejected, new Date()));
    const { alerts } = this.deps.topics;
    await publish(this.deps.producer, alerts, alerts.keyOf(alert), alert);
  }

  /** Commits `offset + 1` (the next message to read) for the message's partition. */
  private async commitAfter(message: SliceMessage): Promise<void> {
    const offset = (BigInt(message.offset) + 1n).toString();
    const { topic, partition } = message;
    try {
      await this.deps.consumer.commitOffsets([{ topic, partition, offset }]);
    } catch (err) {
      const operation = `commit ${topic}/${partition} offset ${offset}`;
      const type = (err as { type?: unknown }).type;
      if (typeof type === 'string' && REBALANCE_ERROR_TYPES.has(type)) {
        throw new KafkaOperationError({
          operation,
          kafkaError: `KafkaJSProtocolError:${type}`,
          retriable: true,
          topic,
          reason:
            "the group rebalanced; the partition's owner reads the message again (storing is idempotent)",
          cause: err,
        });
      }
      throw toKafkaOperationError(err, operation, topic);
    }
  }

  /**
   * Leaves the message uncommitted: pauses its partition and seeks back to it, so it is the next one read when
   * the partition resumes (after a backoff for a retriable error; after a restart for a fatal one).
   */
  private holdBack({ topic, partition, message, pause }: EachMessagePayload, err: unknown): void {
    const resume = pause();
    this.deps.consumer.seek({ topic, partition, offset: message.offset });
    const key = `${topic}/${partition}`;
    const error = describeError(err);
    if (isRetriable(err)) {
      const delayMs = this.deps.backoff.next(key);
      const attempt = this.deps.backoff.failuresOf(key);
      this.deps.logger.warn(
        { event: 'slice-ingest-retry', topic, partition, offset: message.offset, attempt, delayMs, error },
        CONTEXT,
      );
      const timer = setTimeout(() => {
        this.resumeTimers.delete(timer);
        if (this.running) resume();
      }, delayMs);
      this.resumeTimers.add(timer);
      return;
    }
    this.halted.set(key, `${key}@${message.offset}: ${error}`);
    this.deps.logger.error(
      {
        event: 'slice-ingest-halted',
        topic,
        partition,
        offset: message.offset,
        error,
        action: 'partition paused, offset not committed; fix the cause and restart slice-ingest to redeliver',
      },
      err instanceof Error ? err.stack : undefined,
      CONTEXT,
    );
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

function sliceMessageOf({ topic, partition, message }: EachMessagePayload): SliceMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: message.headers ?? {},
  };
}

function partitionKey(message: SliceMessage): string {
  return `${message.topic}/${message.partition}`;
}
