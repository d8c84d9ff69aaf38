/**
 * Nest microservices deserializer for the topics job-state folds (`tidemark.phases`, `tidemark.alerts`): Avro
 * single-object decoding with the bus codec, the record expected on each topic.
 *
 * - decodes to a PhaseChanged (whose phase must map to a domain phase) or an AlertRaised;
 * - a schema problem (not single-object encoded, unknown fingerprint, another record, corrupt body, empty value)
 *   can never decode later: the message goes to the topic's dead-letter topic with the reason (`dead-lettered`),
 *   or, when the topic declares none (`tidemark.alerts`), is handed on as `undecodable` for the handler to log;
 *   either way the handler commits it, so one bad message cannot stop the job views;
 * - anything else (e.g. the dead-letter write fails) rejects: nothing is committed and Kafka redelivers.
 *
 * The transport must run with `parser: { keepBinary: true }` so values arrive as the original bytes.
 */
import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';
import { phaseFromAvro, type AvroCodec, type DeliveredMessage, type Topic } from '@tidemark/bus';
import { SchemaMismatchError } from '@tidemark/domain';
import type { EventPacket } from './event-packet';

/** The message as Nest's Kafka parser passes it (key and headers already turned into strings). */
export interface ParsedKafkaMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer | undefined>;
}

/** Where undecodable messages go (`KafkaDeadLetters` in the app). Resolves once the dead letter is durable. */
export interface DeadLetterSink {
  send(topic: Topic, delivered: DeliveredMessage, reason: string): Promise<void>;
}

/** The topics the deserializer reads, resolved (prefix applied). */
export interface EventTopics {
  readonly phases: Topic;
  readonly alerts: Topic;
}

export class EventDeserializer implements ConsumerDeserializer {
  constructor(
    private readonly codec: AvroCodec,
    private readonly topics: EventTopics,
    private readonly deadLetters: DeadLetterSink,
  ) {}

  async deserialize(raw: ParsedKafkaMessage, options?: { channel?: string }): Promise<IncomingEvent> {
    const pattern = options?.channel ?? raw.topic;
    const source = `${raw.topic}/${raw.partition}@${raw.offset}`;
    const topic = [this.topics.phases, this.topics.alerts].find((t) => t.name === raw.topic);
    if (topic === undefined) throw new Error(`job-state does not read topic ${raw.topic}`);
    try {
      if (raw.value === null || raw.value.length === 0) {
        throw new SchemaMismatchError({ schemaName: String(topic.value), source, detail: 'empty value' });
      }
      const data: EventPacket = this.decode(topic, raw.value, source);
      return { pattern, data };
    } catch (err) {
      if (!(err instanceof SchemaMismatchError)) throw err;
      if (topic.deadLetterName === undefined) {
        const data: EventPacket = { kind: 'undecodable', reason: err.message, source };
        return { pattern, data };
      }
      await this.deadLetters.send(topic, delivered(raw), err.message);
      const data: EventPacket = { kind: 'dead-lettered', reason: err.message, source };
      return { pattern, data };
    }
  }

  private decode(topic: Topic, value: Buffer, source: string): EventPacket {
    if (topic === this.topics.phases) {
      const event = this.codec.decodeAs('tidemark.phases.PhaseChanged', value, source);
      phaseFromAvro(event.phase);
      return { kind: 'phase-changed', event, source };
    }
    const event = this.codec.decodeAs('tidemark.alerts.AlertRaised', value, source);
    return { kind: 'alert-raised', event, source };
  }
}

/** Back to the bytes kafkajs sends: Nest's parser turned the key into a string (job ids are UTF-8). */
function delivered(raw: ParsedKafkaMessage): DeliveredMessage {
  const key =
    raw.key === null || raw.key === undefined
      ? null
      : Buffer.isBuffer(raw.key)
        ? raw.key
        : Buffer.from(raw.key);
  const headers: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(raw.headers ?? {}))
    if (value !== undefined) headers[name] = value;
  return {
    partition: raw.partition,
    message: { key, value: raw.value, headers, offset: raw.offset, timestamp: raw.timestamp },
  };
}
