/**
 * The consumer loop of every pipeline stage (slice-ingest, head-builder, oplog-applier): one place that reads
 * "handle, commit after the effect is durable" top to bottom. `autoCommit` is off; messages of one partition are
 * handled one at a time, in order; several partitions at once.
 *
 * Each message ends one of three ways:
 * - `handle` resolves: the effect is durable, so the offset (message offset + 1) is committed. A commit refused
 *   because the group rebalanced is treated as retriable: the partition's new owner reads the message again, and
 *   handlers are idempotent.
 * - `handle` throws a retriable error: nothing is committed; the partition is paused, sought back to the message
 *   and resumed after a jittered backoff ({@link PartitionBackoff}), so the same message is handled again.
 * - `handle` throws anything else: nothing is committed, the partition stays paused and `problems` reports it
 *   (the service's readiness fails with the reason) instead of skipping the message or crash-looping. A restart
 *   redelivers it.
 * Dead-lettering a bad message is the handler's business: it dead-letters (and alerts), then resolves.
 */
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { describeError, isRetriable as isRetriableByDefault } from '@tidemark/domain';
import { toKafkaOperationError } from './errors';
import { consumerFor } from './kafka';
import { PartitionBackoff } from './partition-backoff';
import type { Topic } from './topics';

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: NonNullable<EachMessagePayload['message']['headers']>;
  readonly timestamp: string;
}

/** Where the loop reports retries, halted partitions and a stopped Kafka consumer. */
export type ConsumerLog = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>) => void;

export interface CommittingConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly Topic[];
  readonly handle: (message: ConsumedMessage) => Promise<void>;
  /** Default: `isRetriable` of `@tidemark/domain`. */
  readonly isRetriable?: (err: unknown) => boolean;
  readonly log: ConsumerLog;
  /** Partitions handled at once (messages of one partition are always handled in order). Default 3. */
  readonly partitionsConsumedConcurrently?: number;
  /** Where a new group starts. Default true: nothing already on the topic is skipped. */
  readonly fromBeginning?: boolean;
  /** Waits before a retriable failure is retried. Default: `PARTITION_RETRY` of `@tidemark/util`. */
  readonly backoff?: PartitionBackoff;
}

export class CommittingConsumer {
  private consumer: Consumer | undefined;
  /** Partitions stopped by a fatal error, `<topic>/<partition>` -> why. */
  private readonly halted = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly backoff: PartitionBackoff;
  private crashed: string | undefined;
  private running = false;

  constructor(private readonly options: CommittingConsumerOptions) {
    this.backoff = options.backoff ?? new PartitionBackoff();
  }

  /** Why the consumer cannot make progress, one line per problem; empty while healthy. */
  get problems(): string[] {
    const halted = [...this.halted.values()].map((why) => `halted ${why}`);
    return this.crashed === undefined ? halted : [this.crashed, ...halted];
  }

  /** Joins the group and starts consuming. */
  async start(): Promise<void> {
    const o = this.options;
    const consumer = consumerFor(o.kafka, { groupId: o.groupId, topics: o.topics });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const error = describeError(payload.error);
      if (payload.restart) {
        o.log('warn', { event: 'consumer-crashed', restart: true, error });
        return;
      }
      this.crashed = `the Kafka consumer stopped: ${error}`;
      o.log('error', { event: 'consumer-crashed', restart: false, error });
    });
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics.map((t) => t.name), fromBeginning: o.fromBeginning ?? true });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 3,
      eachMessage: (payload) => this.eachMessage(consumer, payload),
    });
  }

  /** Leaves the group after the messages in flight are handled; nothing uncommitted is lost (it is redelivered). */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private async eachMessage(consumer: Consumer, payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const key = `${topic}/${partition}`;
    if (this.halted.has(key)) return; // paused after a fatal error; a fetched batch may still drain here
    try {
      await this.options.handle({
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
        timestamp: message.timestamp,
      });
      await this.commitAfter(consumer, topic, partition, message.offset);
      this.backoff.reset(key);
    } catch (err) {
      this.holdBack(consumer, payload, err);
    }
  }

  /** Commits `offset + 1` (the next message to read) for the partition. */
  private async commitAfter(consumer: Consumer, topic: string, partition: number, at: string): Promise<void> {
    const offset = (BigInt(at) + 1n).toString();
    try {
      await consumer.commitOffsets([{ topic, partition, offset }]);
    } catch (err) {
      // A commit refused because the group rebalanced is retriable by the bus's table (REBALANCE_IN_PROGRESS,
      // ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID): the partition's new owner reads the message again.
      const operation = `commit ${topic}/${partition} offset ${offset}`;
      throw toKafkaOperationError(err, operation, topic);
    }
  }

  /**
   * Leaves the message uncommitted: pauses its partition and seeks back to it, so it is the next one read when
   * the partition resumes (after a backoff for a retriable error; after a restart for a fatal one).
   */
  private holdBack(
    consumer: Consumer,
    { topic, partition, message, pause }: EachMessagePayload,
    err: unknown,
  ): void {
    const resume = pause();
    consumer.seek({ topic, partition, offset: message.offset });
    const key = `${topic}/${partition}`;
    const error = describeError(err);
    const isRetriable = this.options.isRetriable ?? isRetriableByDefault;
    if (isRetriable(err)) {
      const delayMs = this.backoff.next(key);
      const attempt = this.backoff.failuresOf(key);
      this.options.log('warn', {
        event: 'message-retry',
        topic,
        partition,
        offset: message.offset,
        attempt,
        delayMs,
        error,
      });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.running) resume();
      }, delayMs);
      this.timers.add(timer);
      return;
    }
    this.halted.set(key, `${key}@${message.offset}: ${error}`);
    this.options.log('error', {
      event: 'partition-halted',
      topic,
      partition,
      offset: message.offset,
      error,
      stack: err instanceof Error ? err.stack : undefined,
      action: 'partition paused, offset not committed; fix the cause and restart the service to redeliver',
    });
  }
}
