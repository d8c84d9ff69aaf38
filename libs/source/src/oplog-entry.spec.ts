import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BSON,
  Binary,
  Decimal128,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  BSONRegExp,
  Code,
} from 'mongodb';
import { readOplogEntryHeader } from './oplog-entry';
import { topLevelElements } from './raw-bson';
import { MalformedSourceDocumentError } from './source-error';

const bytes = (doc: object): Buffer => Buffer.from(BSON.serialize(doc));

describe('readOplogEntryHeader', () => {
  it('reads ts, op, ns and locates o in an insert entry (MongoDB format)', () => {
    const raw = bytes({
      op: 'i',
      ns: 'shop.orders',
      ui: new Binary(Buffer.alloc(16), 4),
      o: { _id: new ObjectId(), qty: 3 },
      ts: new Timestamp({ t: 1_700_000_000, i: 7 }),
      t: Long.fromNumber(1),
      v: 2,
      wall: new Date(),
    });
    const header = readOplogEntryHeader(raw);
    assert.deepEqual(header.ts, { t: 1_700_000_000, i: 7 });
    assert.equal(header.op, 'i');
    assert.equal(header.ns, 'shop.orders');
    assert.ok(header.o);
    assert.deepEqual(BSON.deserialize(raw.subarray(header.o.start, header.o.end))['qty'], 3);
  });

  it('reads the largest timestamp without losing precision', () => {
    const raw = bytes({ ts: new Timestamp({ t: 0xffff_ffff, i: 0xffff_fffe }), op: 'n', ns: '', o: {} });
    assert.deepEqual(readOplogEntryHeader(raw).ts, { t: 0xffff_ffff, i: 0xffff_fffe });
  });

  it('gives an empty ns for a no-op without one', () => {
    const raw = bytes({ ts: new Timestamp({ t: 5, i: 1 }), op: 'n', o: { msg: 'periodic noop' } });
    assert.equal(readOplogEntryHeader(raw).ns, '');
  });

  it('skips every BSON type before the fields it reads', () => {
    const raw = bytes({
      a: 1.5,
      b: 'x',
      c: { d: 1 },
      e: [1, 2],
      f: new Binary(Buffer.from('abc')),
      g: new ObjectId(),
      h: true,
      i: new Date(),
      j: null,
      k: new BSONRegExp('a.*', 'i'),
      l: new Code('function(){}'),
      m: 42,
      n: Long.fromString('9007199254740993'),
      o2: Decimal128.fromString('1.5'),
      p: new MinKey(),
      q: new MaxKey(),
      op: 'u',
      ns: 'db.c',
      ts: new Timestamp({ t: 9, i: 9 }),
    });
    const header = readOplogEntryHeader(raw);
    assert.equal(header.op, 'u');
    assert.deepEqual(header.ts, { t: 9, i: 9 });
    assert.equal([...topLevelElements(raw)].length, 19);
  });

  it('rejects an entry without ts or op, and bytes that are not one BSON document', () => {
    assert.throws(() => readOplogEntryHeader(bytes({ op: 'i', ns: 'a.b' })), MalformedSourceDocumentError);
    assert.throws(
      () => readOplogEntryHeader(bytes({ ts: new Timestamp({ t: 1, i: 1 }), ns: 'a.b' })),
      MalformedSourceDocumentError,
    );
    const good = bytes({ ts: new Timestamp({ t: 1, i: 1 }), op: 'i' });
    assert.throws(
      () => readOplogEntryHeader(good.subarray(0, good.length - 1)),
      MalformedSourceDocumentError,
    );
    assert.throws(
      () => readOplogEntryHeader(Buffer.concat([good, Buffer.from([0])])),
      MalformedSourceDocumentError,
    );
    const lying = Buffer.from(good);
    lying.writeInt32LE(1000, 20); // the length of "op" now runs past the end
    assert.throws(() => [...topLevelElements(lying)], MalformedSourceDocumentError);
  });
});
