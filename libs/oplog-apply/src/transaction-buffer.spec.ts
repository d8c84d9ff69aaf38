import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Timestamp } from 'bson';
import type { OplogOperation } from './entry';
import { TransactionBufferOverflowError } from './errors';
import { TransactionBuffer } from './transaction-buffer';

const op = (id: number): { operation: OplogOperation; path: string } => ({
  operation: { op: 'i', ns: 'db.c', o: { _id: id, pad: 'x'.repeat(50) } },
  path: `applyOps[${id}]`,
});

describe('TransactionBuffer', () => {
  it('holds operations per transaction in order and reports the oldest open entry', () => {
    const buffer = new TransactionBuffer();
    buffer.add('t2', new Timestamp({ t: 10, i: 5 }), [op(1)], false);
    buffer.add('t1', new Timestamp({ t: 10, i: 2 }), [op(2), op(3)], false);
    buffer.add('t1', new Timestamp({ t: 10, i: 7 }), [op(4)], true);
    assert.deepEqual(
      buffer.operations('t1').map(({ operation }) => operation.o['_id']),
      [2, 3, 4],
    );
    assert.deepEqual(buffer.lastTs('t1'), { t: 10, i: 7 });
    assert.deepEqual(buffer.oldestOpenTs(), { t: 10, i: 2 });
    assert.deepEqual(
      buffer.openTransactions().map((txn) => [txn.key, txn.ops, txn.prepared]),
      [
        ['t1', 3, true],
        ['t2', 1, false],
      ],
    );
    buffer.drop('t1');
    buffer.drop('t1');
    assert.equal(buffer.usage().ops, 1);
    buffer.drop('t2');
    assert.deepEqual(buffer.usage(), { ops: 0, bytes: 0 });
    assert.equal(buffer.oldestOpenTs(), undefined);
  });

  it('refuses, without adding anything, operations beyond maxOps or maxBytes over all transactions', () => {
    const buffer = new TransactionBuffer({ maxOps: 3, maxBytes: 1_000_000 });
    buffer.add('a', new Timestamp({ t: 1, i: 1 }), [op(1), op(2)], false);
    assert.throws(
      () => buffer.add('b', new Timestamp({ t: 1, i: 2 }), [op(3), op(4)], false),
      (err: unknown) =>
        err instanceof TransactionBufferOverflowError && err.limit === 'maxOps' && err.attempted === 4,
    );
    assert.equal(buffer.has('b'), false);
    assert.equal(buffer.usage().ops, 2);

    const small = new TransactionBuffer({ maxBytes: 100 });
    assert.throws(
      () => small.add('a', new Timestamp({ t: 1, i: 1 }), [op(1), op(2)], false),
      /maxBytes = 100/,
    );
  });

  it('rejects limits that are not positive integers', () => {
    assert.throws(() => new TransactionBuffer({ maxOps: 0 }), RangeError);
    assert.throws(() => new TransactionBuffer({ maxBytes: 1.5 }), RangeError);
  });
});
