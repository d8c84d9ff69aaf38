import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { headDatabaseName, headNamespace, splitNamespace } from './head';

describe('head namespaces', () => {
  it('maps db.coll to th_<job>_<sync>_db.coll, keeping dots in collection names', () => {
    assert.equal(headNamespace('ab12cd34', 1, 'shop.orders'), 'th_ab12cd34_1_shop.orders');
    assert.equal(headNamespace('ab12cd34', 2, 'shop.orders.v2'), 'th_ab12cd34_2_shop.orders.v2');
  });

  it('shortens long or unusual database names deterministically and distinctly', () => {
    const long = 'd'.repeat(60);
    const a = headDatabaseName('ab12cd34', 1, long);
    assert.ok(a.length <= 63, a);
    assert.equal(a, headDatabaseName('ab12cd34', 1, long));
    assert.notEqual(a, headDatabaseName('ab12cd34', 1, `${long}x`));
    assert.match(headDatabaseName('ab12cd34', 1, 'bad name$'), /^th_ab12cd34_1_bad_name__[0-9a-f]{8}$/);
  });

  it('rejects bad job ids, sync numbers and namespaces', () => {
    assert.throws(() => headNamespace('Bad!', 1, 'a.b'), RangeError);
    assert.throws(() => headNamespace('ab', 0, 'a.b'), RangeError);
    assert.throws(() => headNamespace('ab', 1, 'nodot'), RangeError);
    assert.deepEqual(splitNamespace('a.b.c'), { db: 'a', coll: 'b.c' });
  });
});
