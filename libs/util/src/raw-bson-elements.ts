/**
 * A reader of one level of a raw BSON document, without decoding it: the element names, their types and where
 * each value lies (bsonspec.org: int32 total length, elements `type:u8 name:cstring value`, terminating 0x00).
 */

/** One element: its name, BSON type byte, and value bytes `[start, end)` within the buffer. */
export interface RawElement {
  readonly name: string;
  readonly type: number;
  readonly start: number;
  readonly end: number;
}

/** Bad framing: a length, name or value that does not fit. */
export class RawBsonError extends Error {
  override readonly name = 'RawBsonError';
}

function cstringEnd(doc: Buffer, from: number, limit: number): number {
  const end = doc.indexOf(0, from);
  if (end < 0 || end >= limit) throw new RawBsonError(`unterminated name at byte ${from}`);
  return end;
}

function int32At(doc: Buffer, at: number, limit: number): number {
  if (at + 4 > limit) throw new RawBsonError(`truncated length at byte ${at}`);
  return doc.readInt32LE(at);
}

/** Size in bytes of a value of `type` starting at `at`. */
function valueSize(doc: Buffer, type: number, at: number, limit: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // UTC datetime
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      return 4 + int32At(doc, at, limit);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope (int32 total length)
      return int32At(doc, at, limit);
    case 0x05: // binary: int32 length, subtype byte, bytes
      return 4 + 1 + int32At(doc, at, limit);
    case 0x06: // undefined
    case 0x0a: // null
    case 0x7f: // max key
    case 0xff: // min key
      return 0;
    case 0x07: // ObjectId
      return 12;
    case 0x08: // boolean
      return 1;
    case 0x0b: {
      // regex: two cstrings
      const first = cstringEnd(doc, at, limit);
      return cstringEnd(doc, first + 1, limit) + 1 - at;
    }
    case 0x0c: // DBPointer: string + 12-byte ObjectId
      return 4 + int32At(doc, at, limit) + 12;
    case 0x10: // int32
      return 4;
    case 0x13: // decimal128
      return 16;
    default:
      throw new RawBsonError(`unknown BSON type 0x${type.toString(16)} at byte ${at - 1}`);
  }
}

/**
 * The elements of the (sub)document that starts at `offset` of `doc`, in order. Throws {@link RawBsonError} when
 * its framing is bad.
 */
export function* rawElements(doc: Buffer, offset = 0): Generator<RawElement> {
  if (doc.length - offset < 5)
    throw new RawBsonError(`${doc.length - offset} bytes is shorter than any document`);
  const total = doc.readInt32LE(offset);
  const after = offset + total;
  if (total < 5 || after > doc.length || doc[after - 1] !== 0) {
    throw new RawBsonError(`declared length ${total} at byte ${offset} does not frame the document`);
  }
  const limit = after - 1;
  let at = offset + 4;
  while (at < limit) {
    const type = doc[at]!;
    const nameEnd = cstringEnd(doc, at + 1, limit);
    const name = doc.toString('utf8', at + 1, nameEnd);
    const start = nameEnd + 1;
    const end = start + valueSize(doc, type, start, limit);
    if (end > limit) throw new RawBsonError(`element "${name}" runs past the document end`);
    yield { name, type, start, end };
    at = end;
  }
}
