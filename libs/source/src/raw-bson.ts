/**
 * A reader of the top level of one raw BSON document, without decoding it: the element names, their types and
 * where each value lies. Used to read an oplog entry's `ts`, `op` and `ns` without decoding the (possibly large)
 * `o`, so documents travel as the source's bytes (docs/format.md, "Slice payload").
 *
 * Layout (bsonspec.org): int32 total length, elements `type:u8 name:cstring value`, terminating 0x00.
 */
import { RawBsonError, rawElements, type RawElement } from '@tidemark/util';
import { MalformedSourceDocumentError } from './source-error';

export type { RawElement } from '@tidemark/util';

export const BSON_TYPE = Object.freeze({
  double: 0x01,
  string: 0x02,
  document: 0x03,
  array: 0x04,
  binary: 0x05,
  timestamp: 0x11,
});

/** The top-level elements of `doc`, in order. Throws {@link MalformedSourceDocumentError} on bad framing. */
export function* topLevelElements(doc: Buffer): Generator<RawElement> {
  if (doc.length >= 4 && doc.readInt32LE(0) !== doc.length) {
    throw new MalformedSourceDocumentError(
      `declared length ${doc.readInt32LE(0)} does not frame the ${doc.length} bytes`,
    );
  }
  yield* elementsAt(doc, 0);
}

/**
 * The elements of the embedded document or array whose value starts at `offset` of `doc`, in order. Throws
 * {@link MalformedSourceDocumentError} on bad framing.
 */
export function* elementsAt(doc: Buffer, offset: number): Generator<RawElement> {
  try {
    yield* rawElements(doc, offset);
  } catch (err) {
    if (err instanceof RawBsonError) throw new MalformedSourceDocumentError(err.message);
    throw err;
  }
}

/** The UTF-8 value of a string element. */
export function stringValue(doc: Buffer, element: RawElement): string {
  return doc.toString('utf8', element.start + 4, element.end - 1);
}
