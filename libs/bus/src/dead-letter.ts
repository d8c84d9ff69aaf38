/**
 * Dead letters: a message that failed its checks (schema, checksum, size) is copied, byte for byte, to
 * `<topic>.dlq` with the reason, and never retried. The caller then raises an alert and stops that job's
 * pipeline; it commits the source offset only after {@link deadLetter} resolved, so a crash in between
 * dead-letters the message again rather than losing it (a duplicate in the dead-letter topic is harmless).
 */
import type { IHeaders, KafkaMessage, Producer, RecordMetadata } from 'kafkajs';
import { TopicConfigError } from './bus-errors';
import { toKafkaOperationError } from './errors';
import type { Topic } from './topics';

/** Headers added to a dead-lettered message (the original headers are kept as they were). */
export const DLQ_HEADERS = Object.freeze({
  reason: 'tidemark-dlq-reason',
  sourceTopic: 'tidemark-dlq-source-topic',
  sourcePartition: 'tidemark-dlq-source-partition',
  sourceOffset: 'tidemark-dlq-source-offset',
  sourceTimestamp: 'tidemark-dlq-source-timestamp',
  deadLetteredAt: 'tidemark-dlq-at',
});

/** The part of a kafkajs `EachMessagePayload` a dead letter needs. */
export interface DeliveredMessage {
  readonly partition: number;
  readonly message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset' | 'timestamp'>;
}

/** The longest reason kept in the header; longer reasons are cut (the alert carries the full text). */
export const MAX_REASON_BYTES = 8 * 1024;

function truncateUtf8(text: string, maxBytes: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  return `${buf
    .subarray(0, maxBytes - 3)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}...`;
}

/**
 * Sends the original key, value and headers of `delivered` (read from `topic`) to the topic's dead-letter topic,
 * adding the `tidemark-dlq-*` headers. Throws {@link TopicConfigError} if `topic` declares no dead-letter topic,
 * `KafkaOperationError` if Kafka fails.
 */
export async function deadLetter(
  producer: Producer,
  topic: Topic,
  delivered: DeliveredMessage,
  reason: string,
): Promise<RecordMetadata> {
  if (topic.deadLetterName === undefined) {
    throw new TopicConfigError(topic.name, 'declares no dead-letter topic');
  }
  const { message } = delivered;
  const headers: IHeaders = {
    ...(message.headers ?? {}),
    [DLQ_HEADERS.reason]: truncateUtf8(reason, MAX_REASON_BYTES),
    [DLQ_HEADERS.sourceTopic]: topic.name,
    [DLQ_HEADERS.sourcePartition]: String(delivered.partition),
    [DLQ_HEADERS.sourceOffset]: message.offset,
    [DLQ_HEADERS.sourceTimestamp]: message.timestamp,
    [DLQ_HEADERS.deadLetteredAt]: String(Date.now()),
  };
  try {
    const [meta] = await producer.send({
      topic: topic.deadLetterName,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
    if (meta === undefined) throw new Error('broker returned no record metadata');
    return meta;
  } catch (err) {
    throw toKafkaOperationError(err, `dead-letter to ${topic.deadLetterName}`, topic.deadLetterName);
  }
}
