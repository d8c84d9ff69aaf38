/**
 * Schema fingerprints: CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro specification defines ("Schema
 * Fingerprints" in the Avro spec), of the schema's Parsing Canonical Form. Single-object encoding writes it,
 * little-endian, after the marker.
 *
 * The canonical form is avsc's (`parsingCanonicalForm`); the CRC is written here because avsc 5.7 does not compute
 * it: `Type#fingerprint(algorithm)` hashes the canonical form with Node's `crypto.createHash(algorithm)` (md5 by
 * default; avsc lib/types.js and lib/utils.js `getHash`), and Node's crypto has no CRC-64-AVRO.
 *
 * Values are unsigned 64-bit bigints (0..2^64-1). Java's `SchemaNormalization.parsingFingerprint64` returns the
 * same bits as a signed `long`; compare with `BigInt.asIntN(64, fp)`.
 */
import type * as avro from 'avsc';

/**
 * The Parsing Canonical Form of `type`'s schema (Avro spec, "Parsing Canonical Form for Schemas"): avsc's
 * `Type#schema()` without attributes is that form (full names and no namespace; only type, name, fields, symbols,
 * items, values and size, in that order; logical types, docs, aliases, defaults and order dropped), and
 * `JSON.stringify` adds no whitespace. Two schemas with the same form read and write the same bytes.
 */
export function parsingCanonicalForm(type: avro.Type): string {
  return JSON.stringify(type.schema());
}

/** The fingerprint of the empty byte sequence, and the polynomial the table is built from. */
export const CRC64_AVRO_EMPTY = 0xc15d213aa4d7a795n;

const MASK_64 = (1n << 64n) - 1n;

function buildTable(): readonly bigint[] {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      // Java: fp = (fp >>> 1) ^ (EMPTY & -(fp & 1L)); with unsigned bigints the mask is all ones or zero.
      fp = (fp >> 1n) ^ ((fp & 1n) === 1n ? CRC64_AVRO_EMPTY : 0n);
    }
    table.push(fp & MASK_64);
  }
  return table;
}

const TABLE = buildTable();

/** CRC-64-AVRO of `bytes`, as an unsigned 64-bit bigint. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = CRC64_AVRO_EMPTY;
  for (const byte of bytes) {
    fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  }
  return fp;
}

/** CRC-64-AVRO of a string's UTF-8 bytes (the Parsing Canonical Form of a schema). */
export function crc64AvroOfString(text: string): bigint {
  return crc64Avro(Buffer.from(text, 'utf8'));
}

/** The 8 little-endian bytes single-object encoding writes for a fingerprint. */
export function fingerprintToBytes(fp: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(fp & MASK_64);
  return buf;
}

/** Lowercase hex of the fingerprint's value (most significant byte first), e.g. `7275d51a3f395c8f`. */
export function fingerprintToHex(fp: bigint): string {
  return (fp & MASK_64).toString(16).padStart(16, '0');
}
