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
import { rawElements } from './raw-bson-elements';

export const SOURCE_ORDER: unique symbol = Symbol('tidemark.sourceOrder');

/** Decoding options that keep every value as its BSON wrapper (Int32, Long, Double including -0.0, Decimal128...). */
export const WRAPPED_VALUES = {
  promoteLongs: false,
  promoteValues: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

/** Where `serializesTo` serializes: reused, so checking a document allocates nothing (grown on demand). */
let scratch = Buffer.allocUnsafe(1024 * 1024);

function serializesTo(doc: Document, raw: Buffer): boolean {
  if (scratch.length < raw.length + 1) scratch = Buffer.allocUnsafe(raw.length * 2);
  let end: number;
  try {
    end = BSON.serializeWithBufferAndIndex(doc, scratch);
  } catch {
    // Longer than the scratch buffer (so not `raw`), or a value the library refuses: the plain call says which.
    const again = BSON.serialize(doc);
    return (
      again.length === raw.length && Buffer.from(again.buffer, again.byteOffset, again.length).equals(raw)
    );
  }
  return end + 1 === raw.length && scratch.compare(raw, 0, raw.length, 0, raw.length) === 0;
}

/**
 * `decoded` (`raw` decoded with {@link WRAPPED_VALUES}) when it serializes back to `raw`'s exact bytes; else `raw`
 * decoded again with its source order recorded, when that order (`inSourceOrder`) gives the exact bytes; else
 * undefined: a value no JS object carries unchanged (a date outside the JS range, the deprecated undefined and
 * DBPointer types).
 */
export function byteForByte(raw: Buffer, decoded: Document): Document | undefined {
  if (serializesTo(decoded, raw)) return decoded;
  const ordered = deserializeInSourceOrder(raw, WRAPPED_VALUES);
  return serializesTo(inSourceOrder(ordered), raw) ? ordered : undefined;
}

/** Decodes `raw` like `BSON.deserialize`, recording the source order wherever a JS object would change it. */
export function deserializeInSourceOrder(raw: Uint8Array, options: DeserializeOptions): Document {
  const doc = BSON.deserialize(raw, options);
  annotateDocument(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), 0, doc);
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
function annotateDocument(raw: Buffer, offset: number, doc: unknown): void {
  if (!isPlainObject(doc)) return; // a wrapper (DBRef, ...) serializes in its own fixed order
  const keys: string[] = [];
  for (const element of rawElements(raw, offset)) {
    keys.push(element.name);
    descend(raw, element.type, element.start, doc[element.name]);
  }
  const enumerated = Object.keys(doc);
  if (keys.some((k) => INTEGER_LIKE.test(k)) && keys.some((k, i) => enumerated[i] !== k)) {
    Object.defineProperty(doc, SOURCE_ORDER, { value: keys, enumerable: false });
  }
}

function descend(raw: Buffer, type: number, start: number, value: unknown): void {
  if (type === 0x03) annotateDocument(raw, start, value);
  else if (type === 0x04 && Array.isArray(value)) {
    let index = 0;
    for (const element of rawElements(raw, start)) {
      descend(raw, element.type, element.start, value[index]);
      index += 1;
    }
  }
}

/** Copies `from`'s recorded source order (if any) onto `to`, a copy of it; returns `to`. */
export function keepSourceOrder<T extends object>(from: object, to: T): T {
  const order = (from as { [SOURCE_ORDER]?: readonly string[] })[SOURCE_ORDER];
  if (order !== undefined) Object.defineProperty(to, SOURCE_ORDER, { value: order, enumerable: false });
  return to;
}
