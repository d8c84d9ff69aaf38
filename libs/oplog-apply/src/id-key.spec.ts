import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { idKey } from './id-key';

describe('idKey', () => {
  it('equates numbers of every BSON type by value, and -0 with 0', () => {
    const one = [1, new Int32(1), new Double(1), Long.fromNumber(1), Decimal128.fromString('1.00'), 1n];
    for (const value of one) assert.equal(idKey(value), idKey(1), `${String(value)}`);
    assert.equal(idKey(-0), idKey(0));
    assert.equal(idKey(Decimal128.fromString('-0.0')), idKey(0));
    assert.equal(idKey(Decimal128.fromString('1.5E+3')), idKey(1500));
    assert.equal(idKey(Long.fromString('9007199254740993')), idKey(9007199254740993n));
  });

  it('compares a double by its exact binary value', () => {
    assert.equal(idKey(0.5), idKey(Decimal128.fromString('0.5')));
    assert.notEqual(idKey(0.1), idKey(Decimal128.fromString('0.1')));
    assert.notEqual(idKey(Long.fromString('9007199254740993')), idKey(9007199254740992));
    assert.equal(idKey(Number.NaN), idKey(Decimal128.fromString('NaN')));
    assert.equal(idKey(Infinity), idKey(Decimal128.fromString('Infinity')));
  });

  it('tells types apart', () => {
    const values = [
      '1',
      1,
      true,
      null,
      new Date(1),
      new ObjectId('65a1f0c2e4b0a1b2c3d4e5f6'),
      new Timestamp({ t: 1, i: 1 }),
      new Binary(Buffer.from([1]), 0),
      new Binary(Buffer.from([1]), 5),
      new MinKey(),
      new MaxKey(),
      { a: 1 },
      [1],
    ];
    assert.equal(new Set(values.map((value) => idKey(value))).size, values.length);
  });

  it('compares embedded documents field by field, in order', () => {
    assert.equal(idKey({ a: 1, b: 'x' }), idKey({ a: new Int32(1), b: 'x' }));
    assert.notEqual(idKey({ a: 1, b: 2 }), idKey({ b: 2, a: 1 }));
  });

  it('reads UUIDs as binary subtype 4', () => {
    const uuid = new UUID('0b1c2d3e-4f50-4617-8899-aabbccddeeff');
    assert.equal(idKey(uuid), idKey(new Binary(uuid.buffer, 4)));
  });
});
