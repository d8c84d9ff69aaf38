/**
 * The consumer loop of the pipeline stages (slice-ingest, head-builder, oplog-applier): one place that reads
 * "decode, handle, commit" top to bottom.
 *
 * Each message ends one of three ways:
 * - `handle` resolves: the effect is durable, so the offset (message offset + 1) is committed;
 * - `handle` throws a retriable error: nothing is committed; the partition is paused, sought back to the message
 *   and resumed after a backoff, so the same message is handled again (the handler is idempotent);
 * - `handle` throws anything else: nothing is committed, the partition stays paused and the consumer reports
 *   itself unhealthy with the reason (readiness fails) instead of skipping the message or crash-looping.
 * Dead-lettering a bad message is the handler's business: it dead-letters, alerts and then resolves.
 */
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { consumerFor } from './kafka';
import type { Topic } from './topics';

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: EachMessagePayload['message']['headers'];
  readonly timestamp: string;
}

export interface CommittingConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly Topic[];
  readonly handle: (message: ConsumedMessage) => Promise<void>;
  readonly isRetriable: (err: unknown) => boolean;
  readonly log: (event: Record<string, unknown>) => void;
  /** Partitions handled at once (messages of one partition are always handled in order). Default 3. */
  readonly partitionsConsumedConcurrently?: number;
  readonly fromBeginning?: boolean;
  /** Backoff before a retriable failure is retried, ms. Default 1000, doubling up to 30 s. */
  readonly retryBackoffMs?: number;
}

export class CommittingConsumer {
  private consumer: Consumer | undefined;
  private readonly failures = new Map<string, string>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: CommittingConsumerOptions) {}

  /** Reasons why partitions are stopped (empty while healthy). */
  get problems(): string[] {
    return [...this.failures.entries()].map(([tp, reason]) => `${tp}: ${reason}`);
  }

  async start(): Promise<void> {
    const o = this.options;
    const consumer = consumerFor(o.kafka, { groupId: o.groupId, topics: o.topics });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics.map((t) => t.name), fromBeginning: o.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 3,
      eachMessage: (payload) => this.eachMessage(consumer, payload),
    });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private async eachMessage(
    consumer: Consumer,
    { topic, partition, message }: EachMessagePayload,
  ): Promise<void> {
    const tp = `${topic}[${partition}]`;
    if (this.failures.has(tp)) return; // paused after a fatal error; a fetched batch may still drain here
    const consumed: ConsumedMessage = {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: message.headers,
      timestamp: message.timestamp,
    };
    try {
      await this.options.handle(consumed);
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      consumer.pause([{ topic, partitions: [partition] }]);
      consumer.seek({ topic, partition, offset: message.offset });
      if (this.options.isRetriable(err)) {
        const n = (this.attempts.get(tp) ?? 0) + 1;
        this.attempts.set(tp, n);
        const delay = Math.min(30_000, (this.options.retryBackoffMs ?? 1000) * 2 ** Math.min(n - 1, 5));
        this.options.log({
          event: 'message-retry',
          topic,
          partition,
          offset: message.offset,
          attempt: n,
          delayMs: delay,
          reason,
        });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          consumer.resume([{ topic, partitions: [partition] }]);
        }, delay);
        this.timers.add(timer);
      } else {
        this.failures.set(tp, `offset ${message.offset}: ${reason}`);
        this.options.log({ event: 'partition-stopped', topic, partition, offset: message.offset, reason });
      }
      return;
    }
    this.attempts.delete(tp);
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
  }
}
