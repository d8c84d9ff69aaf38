/**
 * Small helpers over the values `bson` decodes: telling embedded documents from value classes, reading integers
 * whatever their BSON type, converting timestamps, and copying documents.
 *
 * Values are recognised by bson's `_bsontype` tag rather than `instanceof`, so documents decoded by another copy of
 * the `bson` package (the driver's) are handled the same way.
 */
import { keepSourceOrder } from '@tidemark/util';
import type { Document, Timestamp } from 'bson';
import type { OpTime } from '@tidemark/domain';

/** The `_bsontype` tag of a bson value class instance (`ObjectId`, `Int32`, `Long`, `Timestamp`, ...). */
export function bsonTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/**
 * True for a BSON embedded document as bson decodes it: a plain object, not an array, `Date`, `RegExp`, byte array
 * or bson value class (`DBRef` included; see {@link asEmbeddedDocument}).
 */
export function isDocumentValue(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value) || value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) {
    return false;
  }
  return bsonTypeOf(value) === undefined;
}

/**
 * The value as MongoDB sees an embedded document, or undefined when it is not one. bson decodes a document whose
 * first fields are `$ref`/`$id` into a `DBRef` instance; on the server it is an ordinary embedded document, so it
 * is turned back into one here (`$ref`, `$id`, `$db`, then its other fields).
 */
export function asEmbeddedDocument(value: unknown): Document | undefined {
  if (isDocumentValue(value)) return value;
  if (bsonTypeOf(value) === 'DBRef') {
    const ref = value as { collection: string; oid: unknown; db?: string; fields?: Document };
    const doc: Document = { $ref: ref.collection, $id: ref.oid };
    if (ref.db !== undefined && ref.db !== '') doc['$db'] = ref.db;
    for (const [key, field] of Object.entries(ref.fields ?? {})) doc[key] = field;
    return doc;
  }
  return undefined;
}

/** True when `value` is a BSON number of any type (JS number, Int32, Double, Long, Decimal128). */
export function isNumberValue(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'bigint') return true;
  const tag = bsonTypeOf(value);
  return tag === 'Int32' || tag === 'Double' || tag === 'Long' || tag === 'Decimal128';
}

/**
 * The value of an integral BSON number (JS number, bigint, Int32, Double, Long) as a bigint, or undefined when the
 * value is not an integral number. Decimal128 is not accepted (the oplog never uses it for counters or sizes).
 */
export function integerValue(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  const tag = bsonTypeOf(value);
  if (tag === 'Int32' || tag === 'Double') return integerValue((value as { value: number }).value);
  if (tag === 'Long') return BigInt((value as { toString(): string }).toString());
  return undefined;
}

/** Like {@link integerValue}, as a JS number; undefined when not integral or outside the safe integer range. */
export function safeIntegerValue(value: unknown): number | undefined {
  const big = integerValue(value);
  if (big === undefined) return undefined;
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(big);
}

/** True for `true`, or for a number equal to 1: how commands write flags (`{ commitTransaction: 1 }`). */
export function isTruthyFlag(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const number = integerValue(value);
  return number !== undefined && number !== 0n;
}

/** True when `value` is a bson `Timestamp`. */
export function isTimestamp(value: unknown): value is Timestamp {
  return bsonTypeOf(value) === 'Timestamp';
}

/** The oplog position of a bson `Timestamp` (`t` = seconds, `i` = increment, both unsigned 32-bit). */
export function timestampToOpTime(ts: Timestamp): OpTime {
  return { t: ts.high >>> 0, i: ts.low >>> 0 };
}

/**
 * A deep copy of a BSON value: documents and arrays are rebuilt (keeping field order), `Date`s and byte arrays are
 * copied, and bson value classes (immutable in practice) are shared.
 */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => cloneValue(item)) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value) as T;
  if (isDocumentValue(value)) return cloneDocument(value) as T;
  return value;
}

/** A deep copy of a document (see {@link cloneValue}). */
export function cloneDocument(doc: Document): Document {
  const copy: Document = {};
  for (const [key, field] of Object.entries(doc)) copy[key] = cloneValue(field);
  return keepSourceOrder(doc, copy);
}

/** `doc` with `_id` as its first field, as MongoDB stores documents. Returns a new object; `doc` is not changed. */
export function idFirst(doc: Document): Document {
  if (!Object.prototype.hasOwnProperty.call(doc, '_id')) return keepSourceOrder(doc, { ...doc });
  const { _id, ...rest } = doc;
  return keepSourceOrder(doc, { _id, ...rest });
}
