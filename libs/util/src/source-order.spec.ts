import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, Int32, Long, ObjectId, type Document } from 'bson';
import { deserializeInSourceOrder, inSourceOrder, SOURCE_ORDER } from './source-order';

const WRAPPED = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

/** A document whose bytes put integer-like names after others, at the top, nested and inside an array. */
function sourceBytes(): Buffer {
  const top = new Map<string, unknown>([
    ['_id', new ObjectId('0123456789abcdef01234567')],
    ['b', new Int32(1)],
    ['7', 'seven'],
    [
      'nested',
      new Map<string, unknown>([
        ['z', 1],
        ['10', Long.fromInt(2)],
        ['2', 3],
      ]),
    ],
    [
      'list',
      [
        new Map<string, unknown>([
          ['q', 1],
          ['1', 2],
        ]),
        'x',
      ],
    ],
    ['plain', { a: 1, b: 2 }],
  ]);
  return Buffer.from(BSON.serialize(top as unknown as Document));
}

describe('source order of integer-like field names', () => {
  it('a plain decode changes such a document; decoding in source order and serializing gives the same bytes', () => {
    const raw = sourceBytes();
    const plain = BSON.serialize(BSON.deserialize(raw, WRAPPED));
    assert.notDeepEqual(Buffer.from(plain), raw, 'the JS object reorders the integer-like names');
    const doc = deserializeInSourceOrder(raw, WRAPPED);
    assert.equal(doc['7'], 'seven');
    assert.deepEqual(Object.keys(doc).slice(0, 2), ['7', '_id'], 'code still reads an ordinary object');
    assert.deepEqual((doc as { [SOURCE_ORDER]?: string[] })[SOURCE_ORDER], [
      '_id',
      'b',
      '7',
      'nested',
      'list',
      'plain',
    ]);
    const again = Buffer.from(BSON.serialize(inSourceOrder(doc)));
    assert.ok(again.equals(raw), 'byte for byte');
  });

  it('leaves documents a JS object keeps alone (same reference), and keeps _id readable on a Map', () => {
    const raw = Buffer.from(BSON.serialize({ _id: 1, a: { b: [1, { c: 2 }] } }));
    const doc = deserializeInSourceOrder(raw, WRAPPED);
    assert.equal(inSourceOrder(doc), doc);
    const ordered = inSourceOrder(deserializeInSourceOrder(sourceBytes(), WRAPPED)) as unknown as Map<
      string,
      unknown
    >;
    assert.ok(ordered instanceof Map);
    assert.equal((ordered as unknown as { _id: ObjectId })._id.toHexString(), '0123456789abcdef01234567');
  });

  it('follows later changes: removed names are left out, added names come last', () => {
    const doc = deserializeInSourceOrder(sourceBytes(), WRAPPED);
    delete doc['b'];
    doc['added'] = true;
    const keys = [...(inSourceOrder(doc) as unknown as Map<string, unknown>).keys()];
    assert.deepEqual(keys, ['_id', '7', 'nested', 'list', 'plain', 'added']);
  });
});
