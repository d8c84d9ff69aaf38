import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Long, ObjectId, Timestamp } from 'bson';
import { commandName, validateEntry, validateOperation } from './entry';
import { MalformedOplogEntryError } from './errors';
import { ejson } from './spec-support';

const TS = '{"$timestamp": {"t": 1700000000, "i": 1}}';

function entry(fields: string): unknown {
  return ejson(`{"ts": ${TS}, ${fields}}`);
}

describe('validateEntry', () => {
  it('types a MongoDB transaction entry: Int64 fields as bigint, small integers as numbers', () => {
    const typed = validateEntry(
      entry(`"t": {"$numberLong": "3"}, "v": {"$numberLong": "2"}, "op": "c", "ns": "admin.$cmd",
        "o": {"applyOps": [], "partialTxn": true}, "lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}},
        "txnNumber": {"$numberLong": "9007199254740993"}, "stmtId": 0, "h": {"$numberLong": "-5"},
        "wall": {"$date": "2024-01-01T00:00:00Z"}, "prevOpTime": {"ts": {"$timestamp": {"t": 0, "i": 0}}, "t": {"$numberLong": "-1"}}`),
    );
    assert.equal(typed.t, 3n);
    assert.equal(typed.v, 2);
    assert.equal(typed.h, -5n);
    assert.equal(typed.txnNumber, 9007199254740993n);
    assert.equal(typed.stmtId, 0);
    assert.equal(typed.prevOpTime?.t, -1n);
    assert.ok(typed.wall instanceof Date);
    assert.equal(commandName(typed), 'applyOps');
  });

  it("accepts FerretDB's entries: an _id field, no v, no t, numbers as plain JS numbers", () => {
    const typed = validateEntry({
      _id: new ObjectId(),
      ts: new Timestamp({ t: 1, i: 1 }),
      ns: 'db.c',
      op: 'u',
      o: { $v: 1, $set: { _id: 1, a: 1 } },
      o2: { _id: 1 },
    });
    assert.equal(typed.op, 'u');
    assert.equal(typed.v, undefined);
  });

  it('accepts a Long term and stmtId arrays as the driver decodes them', () => {
    const typed = validateEntry({
      ts: new Timestamp({ t: 1, i: 1 }),
      t: Long.fromNumber(7),
      op: 'i',
      ns: 'db.c',
      o: { _id: 1 },
      stmtId: [0, 1],
    });
    assert.equal(typed.t, 7n);
    assert.deepEqual(typed.stmtId, [0, 1]);
  });

  const bad: Record<string, unknown> = {
    'a non-document': 5,
    'a missing ts': ejson('{"op": "n", "ns": "", "o": {}}'),
    'a ts that is not a Timestamp': ejson('{"ts": 1, "op": "n", "ns": "", "o": {}}'),
    'an unknown op type': entry('"op": "x", "ns": "db.c", "o": {}'),
    'an unsupported version': entry('"v": 3, "op": "n", "ns": "", "o": {}'),
    'an insert without _id': entry('"op": "i", "ns": "db.c", "o": {"a": 1}'),
    'an update without o2._id': entry('"op": "u", "ns": "db.c", "o": {"$set": {"a": 1}}'),
    'a delete without _id': entry('"op": "d", "ns": "db.c", "o": {}'),
    'a command outside $cmd': entry('"op": "c", "ns": "db.c", "o": {"drop": "c"}'),
    'an empty command': entry('"op": "c", "ns": "db.$cmd", "o": {}'),
    'o that is not a document': entry('"op": "i", "ns": "db.c", "o": [1]'),
    'a ui that is not a UUID': entry('"op": "i", "ns": "db.c", "ui": "x", "o": {"_id": 1}'),
    'a commit without txnNumber': entry(
      '"op": "c", "ns": "admin.$cmd", "o": {"commitTransaction": 1}, "lsid": {"id": 1}',
    ),
    'a txnNumber that is not an integer': entry('"op": "i", "ns": "db.c", "o": {"_id": 1}, "txnNumber": "1"'),
  };
  for (const [what, raw] of Object.entries(bad)) {
    it(`rejects ${what}`, () => {
      assert.throws(() => validateEntry(raw), MalformedOplogEntryError);
    });
  }

  it('names the field and the entry in its message', () => {
    assert.throws(
      () => validateEntry(entry('"op": "u", "ns": "db.c", "o": {"$set": {"a": 1}}')),
      (err: unknown) => {
        assert.ok(err instanceof MalformedOplogEntryError);
        assert.equal(err.field, 'o2._id');
        assert.match(err.message, /1700000000:1/);
        return true;
      },
    );
  });
});

describe('validateOperation', () => {
  it('checks ops nested in applyOps, which have no ts, and prefixes field names with their path', () => {
    assert.equal(validateOperation(ejson('{"op": "d", "ns": "db.c", "o": {"_id": 1}}')).op, 'd');
    assert.throws(
      () => validateOperation(ejson('{"op": "d", "ns": "db.c", "o": {}}'), { path: 'o.applyOps[3].' }),
      (err: unknown) => err instanceof MalformedOplogEntryError && err.field === 'o.applyOps[3].o._id',
    );
  });
});
