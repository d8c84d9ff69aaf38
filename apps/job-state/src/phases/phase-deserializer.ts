/**
 * Nest microservices deserializer for `tidemark.phases`: Avro single-object decoding with the bus codec.
 *
 * - decodes to a PhaseChanged (and checks its phase maps to a domain phase): `{ kind: 'phase-changed' }`;
 * - a schema problem (not single-object encoded, unknown fingerprint, another record, corrupt body, empty
 *   value) can never decode later, so the message goes to the dead-letter topic with the reason, and the
 *   handler gets `{ kind: 'dead-lettered' }` so it commits the offset after the dead letter was acknowledged;
 * - anything else (e.g. the dead-letter write fails) rejects: nothing is committed and Kafka redelivers.
 *
 * The transport must run with `parser: { keepBinary: true }` so values arrive as the original bytes.
 */
import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';
import { phaseFromAvro, type AvroCodec, type DeliveredMessage } from '@tidemark/bus';
import { SchemaMismatchError } from '@tidemark/domain';
import type { PhasePacket } from './phase-packet';

/** The message as Nest's Kafka parser passes it (key and headers already turned into strings). */
interface ParsedKafkaMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer | undefined>;
}

/** Where undecodable messages go (`PhaseDeadLetters` in the app). Resolves once the dead letter is durable. */
export interface PhaseDeadLetterSink {
  send(delivered: DeliveredMessage, reason: string): Promise<void>;
}

export class PhaseDeserializer implements ConsumerDeserializer {
  constructor(
    private readonly codec: AvroCodec,
    private readonly deadLetters: PhaseDeadLetterSink,
  ) {}

  async deserialize(raw: ParsedKafkaMessage, options?: { channel?: string }): Promise<IncomingEvent> {
    const pattern = options?.channel ?? raw.topic;
    const source = `${raw.topic}/${raw.partition}@${raw.offset}`;
    try {
      if (raw.value === null || raw.value.length === 0) {
        throw new SchemaMismatchError({
          schemaName: 'tidemark.phases.PhaseChanged',
          source,
          detail: 'empty value',
        });
      }
      const event = this.codec.decodeAs('tidemark.phases.PhaseChanged', raw.value, source);
      phaseFromAvro(event.phase);
      const data: PhasePacket = { kind: 'phase-changed', event, source };
      return { pattern, data };
    } catch (err) {
      if (!(err instanceof SchemaMismatchError)) throw err;
      await this.deadLetters.send(delivered(raw), err.message);
      const data: PhasePacket = { kind: 'dead-lettered', reason: err.message, source };
      return { pattern, data };
    }
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
