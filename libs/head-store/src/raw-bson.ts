import { BSON, type Document } from 'bson';
import { TidemarkError } from '@tidemark/domain';

/** A source document that the driver cannot write back byte for byte. Not retriable. */
export class BsonFidelityError extends TidemarkError {
  override readonly name = 'BsonFidelityError';
  constructor(
    readonly ns: string,
    readonly id: unknown,
  ) {
    super(
      `${ns}: document ${String(id)} would not be written byte for byte: it holds something a JS object cannot ` +
        'carry unchanged (an integer-like field name after other fields, a date outside the JS range, or a ' +
        'deprecated type such as undefined or DBPointer); refusing to store it changed',
      { retriable: false },
    );
  }
}

const DESERIALIZE = {
  promoteLongs: false,
  promoteValues: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

/** Raw BSON -> a document of BSON wrapper values that serializes back to the same bytes (checked). */
export function fromRawBson(
  raw: Buffer,
  ns: string,
  verify = process.env['TIDEMARK_VERIFY_BSON_ROUNDTRIP'] !== 'false',
): Document {
  const doc = BSON.deserialize(raw, DESERIALIZE);
  if (verify) {
    const again = BSON.serialize(doc);
    if (
      again.length !== raw.length ||
      !Buffer.from(again.buffer, again.byteOffset, again.length).equals(raw)
    ) {
      throw new BsonFidelityError(ns, doc['_id']);
    }
  }
  return doc;
}
