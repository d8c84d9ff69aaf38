/**
 * Field order that a JS object cannot keep. JS enumerates an object's integer-like keys ("7", "2023") first, in
 * ascending order, whatever order they were set in, so a document such as `{ b: 1, "7": 2 }` decoded by the BSON
 * library and serialized again comes out as `{ "7": 2, b: 1 }`: other bytes, another document for MongoDB.
 *
 * `deserializeInSourceOrder` decodes as usual and, for each (sub)document whose order the object does not keep,
 * records the source's order in a non-enumerable `SOURCE_ORDER` property, so code that reads and copies documents
 * works as before. `inSourceOrder` turns such objects into `Map`s in the recorded order just before they are
 * handed to the driver: the BSON library serializes a `Map`'s entries in insertion order, at any depth. A `Map`
 * also carries a non-enumerable `_id` property with its `_id` value, for code (the driver's among it) that reads
 * `doc._id`.
 */
import { BSON, type DeserializeOptions, type Document } from 'bson';

export const SOURCE_ORDER: unique symbol = Symbol('tidemark.sourceOrder');

/** Decodes `raw` like `BSON.deserialize`, recording the source order wherever a JS object would change it. */
export function deserializeInSourceOrder(raw: Uint8Array, options: DeserializeOptions): Document {
  const doc = BSON.deserialize(raw, options);
  annotateDocument(raw, 0, doc);
  return doc;
}

/**
 * `value` with every (sub)document that has a recorded source order turned into a `Map` in that order (keys
 * added since come after, keys removed since are left out). Returns `value` itself when nothing had an order.
 */
export function inSourceOrder<T>(value: T): T {
  return convert(value) as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function convert(value: unknown): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const c = convert(item);
      if (c !== item) changed = true;
      return c;
    });
    return changed ? out : value;
  }
  if (!isPlainObject(value)) return value;
  const order = (value as { [SOURCE_ORDER]?: readonly string[] })[SOURCE_ORDER];
  const present = Object.keys(value);
  const keys =
    order === undefined
      ? present
      : [...order.filter((k) => Object.hasOwn(value, k)), ...present.filter((k) => !order.includes(k))];
  let changed = false;
  const entries = keys.map((k): [string, unknown] => {
    const v = value[k];
    const c = convert(v);
    if (c !== v) changed = true;
    return [k, c];
  });
  if (order !== undefined) {
    const map = new Map(entries);
    if (Object.hasOwn(value, '_id'))
      Object.defineProperty(map, '_id', { value: value['_id'], enumerable: false });
    return map;
  }
  return changed ? Object.fromEntries(entries) : value;
}

const INTEGER_LIKE = /^(0|[1-9][0-9]*)$/;

/** Walks the document at `offset` of `raw` beside its decoded `doc`, recording orders `doc` does not keep. */
function annotateDocument(raw: Uint8Array, offset: number, doc: unknown): void {
  if (!isPlainObject(doc)) return; // a wrapper (DBRef, ...) serializes in its own fixed order
  const keys: string[] = [];
  forEachElement(raw, offset, (name, type, start) => {
    keys.push(name);
    descend(raw, type, start, doc[name]);
  });
  const enumerated = Object.keys(doc);
  if (keys.some((k) => INTEGER_LIKE.test(k)) && keys.some((k, i) => enumerated[i] !== k)) {
    Object.defineProperty(doc, SOURCE_ORDER, { value: keys, enumerable: false });
  }
}

function descend(raw: Uint8Array, type: number, start: number, value: unknown): void {
  if (type === 0x03) annotateDocument(raw, start, value);
  else if (type === 0x04 && Array.isArray(value)) {
    let index = 0;
    forEachElement(raw, start, (_name, elementType, elementStart) => {
      descend(raw, elementType, elementStart, value[index]);
      index += 1;
    });
  }
}

function int32(raw: Uint8Array, at: number): number {
  return (raw[at]! | (raw[at + 1]! << 8) | (raw[at + 2]! << 16) | (raw[at + 3]! << 24)) >>> 0;
}

function cstringEnd(raw: Uint8Array, at: number): number {
  let end = at;
  while (raw[end] !== 0) {
    if (end >= raw.length) throw new Error('BSON: unterminated name');
    end += 1;
  }
  return end;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Calls `visit(name, type, valueStart)` for each element of the document at `offset`. */
function forEachElement(
  raw: Uint8Array,
  offset: number,
  visit: (name: string, type: number, start: number) => void,
): void {
  const end = offset + int32(raw, offset) - 1;
  let at = offset + 4;
  while (at < end) {
    const type = raw[at]!;
    const nameEnd = cstringEnd(raw, at + 1);
    const name = decoder.decode(raw.subarray(at + 1, nameEnd));
    const start = nameEnd + 1;
    visit(name, type, start);
    at = start + valueLength(raw, type, start);
  }
}

function valueLength(raw: Uint8Array, type: number, start: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      return 4 + int32(raw, start);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return int32(raw, start);
    case 0x05: // binary
      return 5 + int32(raw, start);
    case 0x06: // undefined
    case 0x0a: // null
    case 0xff: // MinKey
    case 0x7f: // MaxKey
      return 0;
    case 0x07: // ObjectId
      return 12;
    case 0x08: // boolean
      return 1;
    case 0x0b: {
      // regular expression: two cstrings
      const patternEnd = cstringEnd(raw, start);
      return cstringEnd(raw, patternEnd + 1) + 1 - start;
    }
    case 0x0c: // DBPointer
      return 4 + int32(raw, start) + 12;
    case 0x10: // int32
      return 4;
    case 0x13: // decimal128
      return 16;
    default:
      throw new Error(`BSON: unknown element type 0x${type.toString(16)}`);
  }
}

/** Copies `from`'s recorded source order (if any) onto `to`, a copy of it; returns `to`. */
export function keepSourceOrder<T extends object>(from: object, to: T): T {
  const order = (from as { [SOURCE_ORDER]?: readonly string[] })[SOURCE_ORDER];
  if (order !== undefined) Object.defineProperty(to, SOURCE_ORDER, { value: order, enumerable: false });
  return to;
}
