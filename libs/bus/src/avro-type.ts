/**
 * How Tidemark maps Avro to JavaScript values, in one place:
 *
 * | Avro                          | TypeScript                                                   |
 * | ----------------------------- | ------------------------------------------------------------ |
 * | `long`                        | `bigint` (never `number`: oplog timestamps exceed 2^53)       |
 * | `long` + `timestamp-millis`   | `Date`                                                       |
 * | `bytes`                       | `Buffer`                                                     |
 * | `["null", T]`                 | `T \| null` (unwrapped; other unions are not used)           |
 * | `enum`                        | string literal union                                         |
 * | `map` / `array` / `record`    | `Record<string, T>` / `T[]` / interface                      |
 *
 * Other logical types on `long` are ignored (the value stays a `bigint`), as the Avro spec allows.
 */
import * as avro from 'avsc';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Avro `long` as a JS `bigint`, range-checked to signed 64 bits. */
export const BIGINT_LONG: avro.types.LongType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(),
  toBuffer: (n: bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  // Used for schema defaults (e.g. `"default": 0`) and avsc's JSON encoding; unsafe integers stay exact as text.
  fromJSON: (v: unknown): bigint => BigInt(v as string | number),
  toJSON: (n: bigint): number | string =>
    n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString(),
  isValid: (n: unknown): boolean => typeof n === 'bigint' && n >= INT64_MIN && n <= INT64_MAX,
  compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});

/** True while a {@link TimestampMillisType} builds its underlying `long`, so the type hook hands it the bigint long. */
let buildingTimestampMillis = false;

/** `timestamp-millis` as a JS `Date` over the bigint long. */
export class TimestampMillisType extends avro.types.LogicalType {
  constructor(schema: avro.Schema, opts?: unknown) {
    buildingTimestampMillis = true;
    try {
      super(schema, opts);
    } finally {
      buildingTimestampMillis = false;
    }
  }

  protected override _fromValue(value: unknown): Date {
    if (value instanceof Date) return value;
    return new Date(Number(value as bigint));
  }

  protected override _toValue(value: unknown): bigint | undefined {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) return undefined;
    return BigInt(value.getTime());
  }

  protected override _resolve(type: avro.Type): ((value: unknown) => Date) | undefined {
    if (avro.Type.isType(type, 'long', 'abstract:long', 'logical:timestamp-millis')) {
      return (value: unknown) => this._fromValue(value);
    }
    return undefined;
  }
}

function typeHook(schema: avro.Schema): avro.Type | undefined {
  if (schema === 'long') return BIGINT_LONG;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || avro.Type.isType(schema)) {
    return undefined;
  }
  const obj = schema as { type?: unknown; logicalType?: unknown };
  if (obj.type !== 'long') return undefined;
  if (obj.logicalType === 'timestamp-millis' && !buildingTimestampMillis) return undefined;
  return BIGINT_LONG;
}

/**
 * Builds the avsc type of a schema (parsed JSON) with Tidemark's value mapping. Each call gets its own name
 * registry, so two versions of one record never clash; pass `registry` to see the named types it defines, by full
 * name.
 */
export function buildAvroType(schema: unknown, registry: Record<string, avro.Type> = {}): avro.Type {
  registry['long'] = BIGINT_LONG;
  return avro.Type.forSchema(schema as avro.Schema, {
    registry,
    typeHook: typeHook as (schema: avro.Schema, opts: unknown) => avro.Type,
    logicalTypes: { 'timestamp-millis': TimestampMillisType },
    wrapUnions: 'never',
    assertLogicalTypes: true,
  });
}
