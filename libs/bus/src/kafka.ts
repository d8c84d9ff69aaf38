/**
 * kafkajs clients with Tidemark's settings, and the typed `publish`.
 *
 * - Producers are idempotent with `acks: -1` and one request in flight, so a retry never duplicates or reorders
 *   a job's messages; topics are never auto-created.
 * - Consumers fetch enough bytes per partition for the largest message of the topics they read (18 MiB for slices).
 * - kafkajs failures come out as {@link KafkaOperationError} with the `retriable` flag from errors.ts.
 * - Connections use TLS and SASL as the environment says (kafka-security.ts), plaintext when it says nothing.
 * - kafkajs's idle timer loop on every connection is fixed first (kafkajs-request-queue.ts).
 */
import {
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type IHeaders,
  type KafkaConfig,
  type Producer,
  type RecordMetadata,
  type RetryOptions,
} from 'kafkajs';
import { KafkaOperationError } from './bus-errors';
import { defaultCodec, type AvroCodec } from './codec';
import { kafkaLogCreator } from './kafka-log';
import { fixKafkajsIdleTimerLoop } from './kafkajs-request-queue';
import { kafkajsSecurity, kafkaSecurityFromEnv, type KafkaSecurity } from './kafka-security';
import { toKafkaOperationError } from './errors';
import type { RecordTopic, Topic } from './topics';
import type { RecordName, RecordTypes } from './types';

/** Options of {@link createKafka}. */
export interface CreateKafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** kafkajs log level; default WARN. */
  readonly logLevel?: logLevel;
  /** Default 3 s: loopback and in-cluster brokers answer quickly, a dead one should fail fast. */
  readonly connectionTimeout?: number;
  /** Default 30 s: an 18 MiB produce must fit in it. */
  readonly requestTimeout?: number;
  /** kafkajs retry for each request; default 8 retries from 100 ms up to 10 s. */
  readonly retry?: RetryOptions;
  /**
   * TLS and SASL of the connections. Default: `kafkaSecurityFromEnv(process.env)` (kafka-security.ts), so every
   * client of a process (services, CLI, tools) connects the way its environment says; plaintext when nothing is set.
   */
  readonly security?: KafkaSecurity;
}

/** Default kafkajs retry settings. */
export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({
  initialRetryTime: 100,
  maxRetryTime: 10_000,
  retries: 8,
  factor: 0.2,
  multiplier: 2,
});

/** A kafkajs client for `brokers`. Does not connect until a producer, consumer or admin does. */
export function createKafka(options: CreateKafkaOptions): Kafka {
  fixKafkajsIdleTimerLoop();
  const config: KafkaConfig = {
    brokers: [...options.brokers],
    clientId: options.clientId,
    logLevel: options.logLevel ?? logLevel.WARN,
    logCreator: kafkaLogCreator(),
    connectionTimeout: options.connectionTimeout ?? 3_000,
    requestTimeout: options.requestTimeout ?? 30_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    ...kafkajsSecurity(options.security ?? kafkaSecurityFromEnv(process.env)),
  };
  return new Kafka(config);
}

/**
 * An idempotent producer: `maxInFlightRequests: 1` keeps per-partition order across retries, no topic
 * auto-creation, and the Java-compatible (murmur2) partitioner so keys land where other clients put them.
 * kafkajs sets no client-side request size cap; the topic's `max.message.bytes` is the limit.
 *
 * Retries are finite on purpose (kafkajs logs a warning about it once per producer): a send to an unreachable
 * cluster must fail with a retriable error the caller's loop can see, not hang. If the caller then sends the
 * record again, Kafka may hold it twice; every consumer is idempotent (slice, command and alert ids), so a
 * duplicate is harmless.
 */
export function producerFor(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/** Options of {@link consumerFor}. */
export interface ConsumerOptions {
  readonly groupId: string;
  /** The topics it will read: fetch sizes are derived from their `max.message.bytes`. */
  readonly topics: readonly Topic[];
  readonly sessionTimeout?: number;
}

/** Fetch sizes for reading `topics`: one maximal message per partition, at most 4 such per fetch. */
export function fetchSizesFor(topics: readonly Topic[]): { maxBytesPerPartition: number; maxBytes: number } {
  const largest = Math.max(1024 * 1024, ...topics.map((t) => t.maxMessageBytes));
  return { maxBytesPerPartition: largest, maxBytes: largest * 4 };
}

/** A consumer sized for `topics`; it never auto-creates topics. Offsets are committed by the caller's loop. */
export function consumerFor(kafka: Kafka, options: ConsumerOptions): Consumer {
  return kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeout ?? 30_000,
    heartbeatInterval: 3_000,
    ...fetchSizesFor(options.topics),
  });
}

/** Options of {@link publish}. */
export interface PublishOptions {
  readonly headers?: IHeaders;
  /** Codec to encode with; default the workspace codec. */
  readonly codec?: AvroCodec;
  /**
   * The record's key, for specs that send a deliberately wrong one. Production code never sets it: the key is the
   * topic's rule (`topic.keyOf`), declared once in topics.ts.
   */
  readonly keyOverride?: string;
}

/**
 * Encodes `record` (single-object encoding, current schema of the topic's value record) and sends it keyed by the
 * topic's key rule (`topic.keyOf(record)`) with `acks: -1`. Resolves once the broker acknowledged it on all in-sync
 * replicas. Throws `SchemaMismatchError` for a record that does not fit the schema, {@link KafkaOperationError}
 * for Kafka failures.
 */
export async function publish<R extends RecordName>(
  producer: Producer,
  topic: RecordTopic<R>,
  record: RecordTypes[R],
  options: PublishOptions = {},
): Promise<RecordMetadata> {
  const key = options.keyOverride ?? topic.keyOf(record);
  const codec = options.codec ?? defaultCodec();
  const value = codec.encode(topic.value, record);
  // The broker limit applies to the whole record batch; this catches the certain failures before sending.
  const size = value.length + Buffer.byteLength(key);
  if (size > topic.maxMessageBytes) {
    throw new KafkaOperationError({
      operation: `publish to ${topic.name}`,
      kafkaError: 'MESSAGE_TOO_LARGE',
      retriable: false,
      topic: topic.name,
      reason: `encoded record and key are ${size} bytes, the topic's max.message.bytes is ${topic.maxMessageBytes}`,
    });
  }
  try {
    const [meta] = await producer.send({
      topic: topic.name,
      acks: -1,
      compression: CompressionTypes.None,
      messages: [{ key, value, headers: options.headers }],
    });
    if (meta === undefined) throw new Error('broker returned no record metadata');
    return meta;
  } catch (err) {
    throw toKafkaOperationError(err, `publish to ${topic.name}`, topic.name);
  }
}
