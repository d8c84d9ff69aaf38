/**
 * Avro single-object encoding (Avro spec, "Single-object encoding") of the records in `schemas/`:
 *
 * ```
 * offset 0   2 bytes   marker C3 01
 * offset 2   8 bytes   CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, little-endian
 * offset 10  ...       the record in Avro binary encoding, written with that schema
 * ```
 *
 * Writers always use a record's current schema. A reader finds the writer schema by fingerprint among every known
 * version (current and `history/`) and resolves the value to the current version, so a new field with a default
 * appears with its default in data written before it existed. Anything it cannot read throws a
 * {@link SingleObjectDecodeError} (a `SchemaMismatchError`, not retriable): the message belongs in a dead-letter
 * topic, never in a retry loop.
 */
import { SchemaMismatchError } from '@tidemark/domain';
import { SingleObjectDecodeError } from './bus-errors';
import { fingerprintToBytes, fingerprintToHex } from './rabin-fingerprint';
import { schemaRegistry, type SchemaRegistry, type SchemaVersion } from './schemas';
import type { RecordTypes } from './types';

/** The two marker bytes that open every single-object encoded message. */
export const SINGLE_OBJECT_MARKER: Readonly<Buffer> = Buffer.from([0xc3, 0x01]);

/** Marker plus fingerprint. */
export const SINGLE_OBJECT_HEADER_BYTES = 10;

/** A decoded message: which record it is, the writer's version, and the value read as the current version. */
export type Decoded<M extends object = RecordTypes> = {
  [N in keyof M & string]: {
    readonly record: N;
    readonly value: M[N];
    /** Version of the schema the writer used. */
    readonly writerVersion: number;
    /** Fingerprint of the writer schema, hex. */
    readonly fingerprint: string;
  };
}[keyof M & string];

/** Reads the writer fingerprint of single-object encoded bytes, without decoding the body. */
export function readFingerprint(bytes: Uint8Array, source?: string): bigint {
  if (bytes.length < SINGLE_OBJECT_HEADER_BYTES) {
    throw new SingleObjectDecodeError('truncated-header', {
      source,
      detail: `${bytes.length} bytes, a single-object encoded message has at least ${SINGLE_OBJECT_HEADER_BYTES}`,
    });
  }
  if (bytes[0] !== 0xc3 || bytes[1] !== 0x01) {
    const found = Buffer.from(bytes.subarray(0, 2)).toString('hex');
    throw new SingleObjectDecodeError('bad-marker', {
      source,
      detail: `marker ${found}, expected c301 (not Avro single-object encoding)`,
    });
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + 2, 8).readBigUInt64LE(0);
}

/** Encoder and decoder over one {@link SchemaRegistry}. Stateless apart from the registry; safe to share. */
export class AvroCodec<M extends object = RecordTypes> {
  constructor(readonly registry: SchemaRegistry<M>) {}

  /**
   * Encodes `value` with the current schema of `record`. Throws {@link SchemaMismatchError} (not retriable) naming
   * the first invalid field when the value does not fit the schema: a bug in the producer, never retried.
   */
  encode<N extends keyof M & string>(record: N, value: M[N]): Buffer {
    return this.encodeVersion(this.registry.record(record).current, value);
  }

  /** Encodes with a given (possibly historical) version. For tests and tools; producers use {@link encode}. */
  encodeVersion(version: SchemaVersion, value: unknown): Buffer {
    const invalid: string[] = [];
    const ok = version.type.isValid(value, {
      errorHook: (path: string[], bad: unknown) => {
        if (invalid.length === 0) invalid.push(`${path.join('.') || '<root>'} = ${describeValue(bad)}`);
      },
    });
    if (!ok) {
      throw new SchemaMismatchError({
        schemaName: version.record,
        fingerprint: version.fingerprintHex,
        detail: `value does not match v${version.version}: invalid field ${invalid[0] ?? '<unknown>'}`,
      });
    }
    const body = version.type.toBuffer(value);
    const out = Buffer.allocUnsafe(SINGLE_OBJECT_HEADER_BYTES + body.length);
    SINGLE_OBJECT_MARKER.copy(out, 0);
    fingerprintToBytes(version.fingerprint).copy(out, 2);
    body.copy(out, SINGLE_OBJECT_HEADER_BYTES);
    return out;
  }

  /**
   * Decodes any known record. `source` (e.g. `topic/partition@offset`) only goes into error messages. Throws
   * {@link SingleObjectDecodeError} for a short header, a bad marker, an unknown fingerprint or a body that does
   * not decode (truncated, trailing bytes).
   */
  decode(bytes: Uint8Array, source?: string): Decoded<M> {
    const fingerprint = readFingerprint(bytes, source);
    const found = this.registry.findWriter(fingerprint);
    if (found === undefined) {
      throw new SingleObjectDecodeError('unknown-fingerprint', {
        fingerprint: fingerprintToHex(fingerprint),
        source,
        detail:
          'no known schema version has this fingerprint (written by a newer producer, or not a Tidemark record)',
      });
    }
    const body = Buffer.from(
      bytes.buffer,
      bytes.byteOffset + SINGLE_OBJECT_HEADER_BYTES,
      bytes.length - SINGLE_OBJECT_HEADER_BYTES,
    );
    let value: unknown;
    try {
      value = found.reader.type.fromBuffer(body, found.resolver);
    } catch (err) {
      throw new SingleObjectDecodeError('bad-body', {
        fingerprint: found.writer.fingerprintHex,
        schemaName: found.writer.record,
        source,
        detail: `cannot read the body as v${found.writer.version}: ${(err as Error).message}`,
        cause: err,
      });
    }
    return {
      record: found.writer.record,
      value,
      writerVersion: found.writer.version,
      fingerprint: found.writer.fingerprintHex,
    } as Decoded<M>;
  }

  /** Decodes and checks that the message is a `record`; throws {@link SingleObjectDecodeError} otherwise. */
  decodeAs<N extends keyof M & string>(record: N, bytes: Uint8Array, source?: string): M[N] {
    const decoded = this.decode(bytes, source);
    if (decoded.record !== record) {
      throw new SingleObjectDecodeError('unexpected-record', {
        fingerprint: decoded.fingerprint,
        schemaName: decoded.record,
        source,
        detail: `expected ${record}, found ${decoded.record}`,
      });
    }
    return decoded.value as M[N];
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : `Date(${value.toISOString()})`;
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return typeof value;
  }
}

let defaultCodecInstance: AvroCodec | undefined;

/** The codec over the workspace's schemas ({@link schemaRegistry}). */
export function defaultCodec(): AvroCodec {
  defaultCodecInstance ??= new AvroCodec(schemaRegistry());
  return defaultCodecInstance;
}
