/**
 * A message of a slices topic as the consumer delivered it: enough to check the slice, to name where it came
 * from, and to dead-letter it byte for byte.
 */

/** Kafka header values as kafkajs delivers them. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** One message of `tidemark.slices.initial` or `tidemark.slices.oplog`. */
export interface SliceMessage {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset, decimal. An Int64: kept as text, never a JS number. */
  readonly offset: string;
  /** The message key (`<jobId>` or `<jobId>/<db.collection>`), or null when it has none. */
  readonly key: Buffer | null;
  /** The Avro single-object encoded `SliceProduced`, or null for a tombstone. */
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
}

/** Where a message came from, for error messages and logs: `<topic>/<partition>@<offset>`. */
export function messageSource(message: Pick<SliceMessage, 'topic' | 'partition' | 'offset'>): string {
  return `${message.topic}/${message.partition}@${message.offset}`;
}

/** The key as UTF-8 text, or null when the message has none. */
export function messageKeyText(message: Pick<SliceMessage, 'key'>): string | null {
  return message.key === null ? null : message.key.toString('utf8');
}
