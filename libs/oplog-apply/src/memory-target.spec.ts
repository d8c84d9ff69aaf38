import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Int32, Long } from 'bson';
import { describeApplyTarget } from './apply-target.contract';
import { ApplyTargetError } from './errors';
import { MemoryApplyTarget } from './memory-target';
import { canonical, ejson } from './spec-support';

let counter = 0;
describeApplyTarget('MemoryApplyTarget', async () => {
  const target = new MemoryApplyTarget();
  counter += 1;
  return { target, inspect: target.inspector(), db: `contract${counter}` };
});

describe('MemoryApplyTarget specifics', () => {
  it('copies documents in and out, so callers cannot change stored state', async () => {
    const target = new MemoryApplyTarget();
    const doc = ejson('{"_id": 1, "nested": {"a": [1]}}');
    await target.insertOrReplace('db.c', doc);
    (doc['nested'] as { a: unknown[] }).a.push(2);
    const read = await target.findById('db.c', { _id: 1 });
    (read?.['nested'] as { a: unknown[] }).a.push(3);
    assert.equal(canonical(target.documents('db.c')), canonical([ejson('{"_id": 1, "nested": {"a": [1]}}')]));
  });

  it('keeps the stored _id value when a numerically equal _id of another type replaces the document', async () => {
    const target = new MemoryApplyTarget();
    await target.insertOrReplace('db.c', { _id: new Int32(1), a: 1 });
    await target.insertOrReplace('db.c', { _id: Long.fromNumber(1), a: 2 });
    assert.equal(canonical(target.documents('db.c')), canonical([{ _id: new Int32(1), a: 2 }]));
  });

  it('keeps a replaced document in its position, as a storage engine updating in place would', async () => {
    const target = new MemoryApplyTarget();
    for (const id of [1, 2, 3]) await target.insertOrReplace('db.c', { _id: id });
    await target.update('db.c', { _id: 2 }, { kind: 'replacement', doc: { x: 1 } });
    assert.deepEqual(
      target.documents('db.c').map((doc) => doc['_id']),
      [1, 2, 3],
    );
  });

  it('refuses arrays and regular expressions as _id, and namespaces without a collection', async () => {
    const target = new MemoryApplyTarget();
    await assert.rejects(target.insertOrReplace('db.c', { _id: [1] }), ApplyTargetError);
    await assert.rejects(target.insertOrReplace('db.c', { _id: /x/ }), ApplyTargetError);
    await assert.rejects(target.insertOrReplace('db', { _id: 1 }), /InvalidNamespace/);
    await assert.rejects(target.dropDatabase('a.b'), /InvalidNamespace/);
  });

  it('creates views and clustered collections without an _id_ index', async () => {
    const target = new MemoryApplyTarget();
    await target.createCollection('db.v', { viewOn: 'c', pipeline: [] });
    await target.createCollection('db.k', { clusteredIndex: { key: { _id: 1 }, unique: true } });
    assert.deepEqual(target.indexes('db.v'), []);
    assert.deepEqual(target.indexes('db.k'), []);
  });

  it('refuses the same key and options under a second name, and dropping _id_', async () => {
    const target = new MemoryApplyTarget();
    await target.createIndexes('db.c', [{ key: { a: 1 }, name: 'a_1' }]);
    await assert.rejects(
      target.createIndexes('db.c', [{ key: { a: 1 }, name: 'other' }]),
      /IndexOptionsConflict/,
    );
    await target.createIndexes('db.c', [{ key: { a: 1 }, name: 'a_1_unique', unique: true }]);
    await assert.rejects(target.dropIndexes('db.c', ['_id_']), /cannot drop the _id index/);
  });

  it('collMod unhides an index, removes a TTL with "off", and ignores an index that no longer exists', async () => {
    const target = new MemoryApplyTarget();
    await target.createIndexes('db.c', [{ key: { a: 1 }, name: 'a_1', hidden: true }]);
    await target.collMod('db.c', { index: { name: 'a_1', hidden: false } });
    await target.collMod('db.c', { index: { name: 'gone', hidden: true } });
    await target.collMod('db.c', { expireAfterSeconds: 10 });
    await target.collMod('db.c', { expireAfterSeconds: 'off' });
    assert.equal(canonical(target.indexes('db.c')[1]), canonical({ key: { a: 1 }, name: 'a_1' }));
    assert.equal(canonical(target.collectionOptions('db.c')), canonical({}));
  });
});
