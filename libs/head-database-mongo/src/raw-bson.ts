import { BSON, type Document } from 'bson';
import { TidemarkError } from '@tidemark/domain';
import { byteForByte, inSourceOrder, WRAPPED_VALUES } from '@tidemark/util';

/** A source document that the driver cannot write back byte for byte. Not retriable. */
export class BsonFidelityError extends TidemarkError {
  override readonly name = 'BsonFidelityError';
  constructor(
    readonly ns: string,
    readonly id: unknown,
  ) {
    super(
      `${ns}: document ${String(id)} would not be written byte for byte: it holds something a JS object cannot ` +
        'carry unchanged (a date outside the JS range, or a deprecated type such as undefined or DBPointer); ' +
        'refusing to store it changed',
      { retriable: false },
    );
  }
}

/**
 * Raw BSON -> a document of BSON wrapper values that serializes back to the same bytes (checked). A document
 * whose field order a JS object cannot keep (an integer-like name after other names) comes back as a `Map` in the
 * source's order (`inSourceOrder` of `@tidemark/util`), with its `_id` readable as a property.
 */
export function fromRawBson(
  raw: Buffer,
  ns: string,
  verify = process.env['TIDEMARK_VERIFY_BSON_ROUNDTRIP'] !== 'false',
): Document {
  const doc = BSON.deserialize(raw, WRAPPED_VALUES);
  if (!verify) return doc;
  const faithful = byteForByte(raw, doc);
  if (faithful === undefined) throw new BsonFidelityError(ns, doc['_id']);
  return inSourceOrder(faithful);
}
