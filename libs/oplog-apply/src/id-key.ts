/**
 * Canonical keys for `_id` values: two values get the same key exactly when MongoDB's `_id` index treats them as
 * the same document id.
 *
 * MongoDB compares numbers by value across types, so `1` (int), `NumberLong(1)`, `1.0` (double) and
 * `NumberDecimal("1.00")` are one id, and `-0` equals `0`; a double is compared by its exact binary value, so the
 * double `0.1` is not `NumberDecimal("0.1")`. Strings and symbols compare alike. Embedded documents compare field
 * by field in order. Everything else compares by type and value.
 */
import type { Document } from 'bson';
import { bsonTypeOf, isDocumentValue } from './bson-values';

/** A normalised exact decimal: `sign digits e exponent`, no trailing zeros in `digits`; zero is `0`. */
function normalisedDecimal(negative: boolean, digits: bigint, exponent: number): string {
  if (digits === 0n) return '0';
  let mantissa = digits;
  let exp = exponent;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp += 1;
  }
  return `${negative ? '-' : ''}${mantissa}e${exp}`;
}

/** The exact decimal value of a double (every finite double has a finite decimal expansion). */
function doubleKey(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = exponentBits === 0 ? -1074 : exponentBits - 1075;
  if (exponent >= 0) return normalisedDecimal(negative, mantissa << BigInt(exponent), 0);
  // mantissa / 2^k == mantissa * 5^k / 10^k
  return normalisedDecimal(negative, mantissa * 5n ** BigInt(-exponent), exponent);
}

const DECIMAL_TEXT = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The exact value of a Decimal128, from its string form (`1.50`, `-1.2E+3`, `NaN`, `-Infinity`). */
function decimalKey(text: string): string {
  if (/^[+-]?nan$/i.test(text)) return 'NaN';
  if (/^\+?inf(inity)?$/i.test(text)) return 'Infinity';
  if (/^-inf(inity)?$/i.test(text)) return '-Infinity';
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) return `decimal:${text}`;
  const [, sign = '', whole = '0', fraction = '', exponent = '0'] = match;
  return normalisedDecimal(sign === '-', BigInt(whole + fraction), Number(exponent) - fraction.length);
}

function numberKey(value: unknown): string | undefined {
  if (typeof value === 'number') return doubleKey(value);
  if (typeof value === 'bigint') return normalisedDecimal(value < 0n, value < 0n ? -value : value, 0);
  switch (bsonTypeOf(value)) {
    case 'Int32':
    case 'Double':
      return doubleKey((value as { value: number }).value);
    case 'Long': {
      const big = BigInt((value as { toString(): string }).toString());
      return normalisedDecimal(big < 0n, big < 0n ? -big : big, 0);
    }
    case 'Decimal128':
      return decimalKey((value as { toString(): string }).toString());
    default:
      return undefined;
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The canonical key of a BSON value (used for `_id`s). Keys of different BSON type classes never collide; keys of
 * numbers follow MongoDB's cross-type numeric equality.
 */
export function idKey(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `s:${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `b:${value}`;
  const number = numberKey(value);
  if (number !== undefined) return `n:${number}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (value instanceof RegExp) {
    return `re:${JSON.stringify(value.source)}/${[...value.flags].sort().join('')}`;
  }
  if (Array.isArray(value)) return `[${value.map((item: unknown) => idKey(item)).join(',')}]`;
  if (value instanceof Uint8Array) return `bin:0:${base64(value)}`;
  if (isDocumentValue(value)) return documentKey(value);
  const tag = bsonTypeOf(value);
  const v = value as Record<string, unknown> & { toString(): string; toHexString?(): string };
  switch (tag) {
    case 'ObjectId':
      return `oid:${(v.toHexString as () => string).call(v)}`;
    case 'Timestamp':
      return `ts:${(v['high'] as number) >>> 0}:${(v['low'] as number) >>> 0}`;
    case 'Binary':
      return `bin:${v['sub_type'] as number}:${base64((v['buffer'] as Uint8Array).subarray(0, v['position'] as number))}`;
    case 'BSONSymbol':
      return `s:${JSON.stringify(v['value'])}`;
    case 'BSONRegExp':
      return `re:${JSON.stringify(v['pattern'])}/${[...String(v['options'])].sort().join('')}`;
    case 'MinKey':
      return 'minkey';
    case 'MaxKey':
      return 'maxkey';
    case 'Code':
      return `code:${JSON.stringify(v['code'])}${v['scope'] === null || v['scope'] === undefined ? '' : idKey(v['scope'])}`;
    case 'DBRef': {
      const ref = value as { collection: string; oid: unknown; db?: string; fields?: Document };
      const doc: Document = { $ref: ref.collection, $id: ref.oid };
      if (ref.db !== undefined && ref.db !== '') doc['$db'] = ref.db;
      return documentKey({ ...doc, ...(ref.fields ?? {}) });
    }
    default:
      return `other:${String(tag)}:${String(value)}`;
  }
}

function documentKey(doc: Document): string {
  return `{${Object.entries(doc)
    .map(([key, field]) => `${JSON.stringify(key)}:${idKey(field)}`)
    .join(',')}}`;
}
