/**
 * The one consumer loop of every Tidemark service that reads Kafka (agent, slice-ingest, head-builder,
 * oplog-applier, job-state): one place that reads "decode, handle, commit after the effect is durable" top to
 * bottom. `autoCommit` is off; messages of one partition are handled one at a time, in order; several partitions at
 * once. While a message is handled the loop heartbeats, so a long handler does not cost the group its member.
 *
 * Each message ends one of four ways:
 * - it does not decode (`decode` throws `SchemaMismatchError`: not single-object encoded, an unknown fingerprint,
 *   another record, a corrupt body, no value): it can never decode later, so it is copied to the topic's
 *   dead-letter topic with the reason ({@link deadLetter}), `afterDeadLetter` runs (e.g. an alert), and only then
 *   is the offset committed. Every topic the loop reads must declare a dead-letter topic (checked at
 *   construction). This is the one rule for an undecodable message, wherever it is consumed.
 * - `handle` resolves: the effect is durable, so the offset is committed (message offset + 1, or what `commits`
 *   says). A commit refused because the group rebalanced is treated as retriable: the partition's new owner reads
 *   the message again, and handlers are idempotent.
 * - `handle` (or a dead letter) throws a retriable error: nothing is committed; the partition is paused, sought
 *   back to the message and resumed after a jittered backoff ({@link PartitionBackoff}), so the same message is
 *   handled again.
 * - anything else: nothing is committed, the partition stays paused and `problems` reports it (the service's
 *   readiness fails with the reason) instead of skipping the message or retrying a fatal error forever. A restart
 *   redelivers it.
 * A handler that rejects a decoded message for its own reasons (a slice failing its checksum) dead-letters it
 * itself, with {@link deadLetter}, and resolves.
 */
import type { Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import {
  describeError,
  isRetriable as isRetriableByDefault,
  NO_STAGE_METRICS,
  SchemaMismatchError,
  type StageMetrics,
} from '@tidemark/domain';
import { TopicConfigError } from './bus-errors';
import { defaultCodec, type AvroCodec } from './codec';
import { deadLetter } from './dead-letter';
import { toKafkaOperationError } from './errors';
import { consumerFor } from './kafka';
import { retry, RETRY_DEFAULT } from '@tidemark/util';
import { PartitionBackoff } from './partition-backoff';
import type { Topic } from './topics';
import type { RecordName, RecordTypes } from './types';

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: NonNullable<EachMessagePayload['message']['headers']>;
  readonly timestamp: string;
}

/** `<topic>/<partition>@<offset>`: where a message came from, for errors and logs. */
export function sourceOf(message: Pick<ConsumedMessage, 'topic' | 'partition' | 'offset'>): string {
  return `${message.topic}/${message.partition}@${message.offset}`;
}

/**
 * Turns a consumed message into what the handler works on. Throws `SchemaMismatchError` for a message that cannot
 * be decoded (it is dead-lettered); any other error is handled like a failure of the handler.
 */
export type MessageDecoder<T> = (message: ConsumedMessage) => T;

/**
 * The decoder of a topic carrying one Avro record: single-object decoding with the workspace codec, resolved to
 * the record's current version. A missing or empty value (a tombstone) does not decode either.
 */
export function recordDecoder<R extends RecordName>(
  record: R,
  codec: AvroCodec = defaultCodec(),
): MessageDecoder<RecordTypes[R]> {
  return (message) => {
    const source = sourceOf(message);
    if (message.value === null || message.value.length === 0) {
      throw new SchemaMismatchError({ schemaName: record, source, detail: 'empty value' });
    }
    return codec.decodeAs(record, message.value, source);
  };
}

/**
 * The message itself, for a consumer whose decoding is part of its own checks (slice-ingest: decoding is the first
 * of the checks a slice must pass, and a slice failing any of them is dead-lettered with an alert by its handler).
 */
export const rawMessage: MessageDecoder<ConsumedMessage> = (message) => message;

/**
 * Which offset to commit once a message is settled. The default commits every message (offset + 1); the agent's
 * command consumer plugs in a floor that holds commits back while a missing-document fetch is unfinished.
 */
export interface CommitPolicy<O> {
  /**
   * The offset to commit (the next to read, as Kafka expects it) now that the message at `offset` is settled,
   * or undefined to commit nothing yet. `outcome` is what `handle` returned; undefined for a dead-lettered message.
   */
  next(topic: string, partition: number, offset: string, outcome: O | undefined): string | undefined;
  /** The group rebalanced: forget per-partition state (the new assignment starts from the committed offsets). */
  reset(): void;
}

/** Commits each settled message: offset + 1. */
export const COMMIT_EACH_MESSAGE: CommitPolicy<unknown> = Object.freeze({
  next: (_topic: string, _partition: number, offset: string) => (BigInt(offset) + 1n).toString(),
  reset: () => undefined,
});

/** Where the loop reports retries, halted partitions, dead letters and a stopped Kafka consumer. */
export type ConsumerLog = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>) => void;

export interface CommittingConsumerOptions<T, O = void> {
  readonly kafka: Kafka;
  readonly groupId: string;
  /** The topics read; each must declare a dead-letter topic. */
  readonly topics: readonly Topic[];
  /** Message -> what `handle` works on; e.g. `recordDecoder('tidemark.slices.SliceStored')`. */
  readonly decode: MessageDecoder<T>;
  /** The effect of one decoded message; resolves once it is durable. */
  readonly handle: (record: T, message: ConsumedMessage) => Promise<O>;
  /** Connected producer for dead letters. */
  readonly producer: Producer;
  /**
   * Runs after an undecodable message's dead letter is acknowledged and before its offset is committed (e.g. to
   * raise an alert). Throwing leaves the message uncommitted, like a failing handler (the dead letter is repeated).
   */
  readonly afterDeadLetter?: (message: ConsumedMessage, reason: string) => Promise<void>;
  /** Default {@link COMMIT_EACH_MESSAGE}. */
  readonly commits?: CommitPolicy<O>;
  /** Default: `isRetriable` of `@tidemark/domain`. */
  readonly isRetriable?: (err: unknown) => boolean;
  readonly log: ConsumerLog;
  /** Partitions handled at once (messages of one partition are always handled in order). Default 3. */
  readonly partitionsConsumedConcurrently?: number;
  /** Where a new group starts. Default true: nothing already on the topic is skipped. */
  readonly fromBeginning?: boolean;
  /** Waits before a retriable failure is retried. Default: `PARTITION_RETRY` of `@tidemark/util`. */
  readonly backoff?: PartitionBackoff;
  /** The group's session timeout, ms. Default 30 s. */
  readonly sessionTimeout?: number;
  /** Counts each failed message, retried or halting its partition, by the error's class. Default: nothing. */
  readonly metrics?: Pick<StageMetrics, 'failure'>;
}

/** How often the loop heartbeats while a handler runs (kafkajs sends one only when its interval is due). */
const HEARTBEAT_WHILE_HANDLING_MS = 3_000;

export class CommittingConsumer<T = ConsumedMessage, O = void> {
  private consumer: Consumer | undefined;
  /** Partitions stopped by a fatal error, `<topic>/<partition>` -> why. */
  private readonly halted = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly backoff: PartitionBackoff;
  private readonly commits: CommitPolicy<O>;
  private readonly byName: ReadonlyMap<string, Topic>;
  private crashed: string | undefined;
  private running = false;

  /** Throws {@link TopicConfigError} if a topic declares no dead-letter topic. */
  constructor(private readonly options: CommittingConsumerOptions<T, O>) {
    this.backoff = options.backoff ?? new PartitionBackoff();
    this.commits = options.commits ?? COMMIT_EACH_MESSAGE;
    for (const topic of options.topics) {
      if (topic.deadLetterName === undefined) {
        throw new TopicConfigError(
          topic.name,
          'is consumed but declares no dead-letter topic for messages that cannot be decoded',
        );
      }
    }
    this.byName = new Map(options.topics.map((t) => [t.name, t]));
  }

  /** Why the consumer cannot make progress, one line per problem; empty while healthy. */
  get problems(): string[] {
    const halted = [...this.halted.values()].map((why) => `halted ${why}`);
    return this.crashed === undefined ? halted : [this.crashed, ...halted];
  }

  /** Joins the group and starts consuming. */
  async start(): Promise<void> {
    const o = this.options;
    const consumer = consumerFor(o.kafka, {
      groupId: o.groupId,
      topics: o.topics,
      ...(o.sessionTimeout === undefined ? {} : { sessionTimeout: o.sessionTimeout }),
    });
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
    consumer.on(consumer.events.GROUP_JOIN, () => this.commits.reset());
    await consumer.connect();
    // Just after the topics were created, the broker may not list them yet (UNKNOWN_TOPIC_OR_PARTITION from the
    // metadata request subscribe makes): retriable errors are retried (a clean-clone CI run failed job-state's boot
    // on one); anything else stops the start.
    const topicNames = o.topics.map((t) => t.name);
    await retry(
      async () => {
        try {
          await consumer.subscribe({ topics: topicNames, fromBeginning: o.fromBeginning ?? true });
        } catch (err) {
          throw toKafkaOperationError(err, 'subscribe', topicNames.join(', '));
        }
      },
      {
        what: `subscribe to ${topicNames.join(', ')}`,
        maxAttempts: 6,
        backoff: RETRY_DEFAULT.with({ initialMs: 500 }),
      },
    );
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
    const { topic, partition, message, heartbeat } = payload;
    const key = `${topic}/${partition}`;
    if (this.halted.has(key)) return; // paused after a fatal error; a fetched batch may still drain here
    const consumed: ConsumedMessage = {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: message.headers ?? {},
      timestamp: message.timestamp,
    };
    const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_WHILE_HANDLING_MS);
    try {
      const outcome = await this.settle(consumed);
      const next = this.commits.next(topic, partition, message.offset, outcome);
      if (next !== undefined) await this.commit(consumer, topic, partition, next);
      this.backoff.reset(key);
    } catch (err) {
      this.holdBack(consumer, payload, err);
    } finally {
      clearInterval(beat);
    }
  }

  /** Decode, then handle; or dead-letter what cannot be decoded. Resolves once the outcome is durable. */
  private async settle(message: ConsumedMessage): Promise<O | undefined> {
    let record: T;
    try {
      record = this.options.decode(message);
    } catch (err) {
      if (!(err instanceof SchemaMismatchError)) throw err;
      await this.deadLetterUndecodable(message, err);
      return undefined;
    }
    return await this.options.handle(record, message);
  }

  private async deadLetterUndecodable(message: ConsumedMessage, err: SchemaMismatchError): Promise<void> {
    const topic = this.byName.get(message.topic);
    if (topic === undefined) throw new TopicConfigError(message.topic, 'is not read by this consumer');
    const reason = `undecodable: ${describeError(err)}`;
    const meta = await deadLetter(
      this.options.producer,
      topic,
      { partition: message.partition, message },
      reason,
    );
    this.options.log('warn', {
      event: 'dead-lettered',
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      deadLetterTopic: topic.deadLetterName,
      deadLetterOffset: meta.baseOffset ?? meta.offset,
      reason,
    });
    await this.options.afterDeadLetter?.(message, reason);
  }

  private async commit(consumer: Consumer, topic: string, partition: number, offset: string): Promise<void> {
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
    const retriable = isRetriable(err);
    (this.options.metrics ?? NO_STAGE_METRICS).failure(err, retriable);
    if (retriable) {
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
