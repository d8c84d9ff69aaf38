import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertIndexes, loadFixture, outcomes, replay } from './spec-support';

describe('fixture cmd_create_indexes', () => {
  it('creates indexes from createIndexes, commitIndexBuild and legacy system.indexes inserts; ignores start/abort', async () => {
    const { target, results } = await replay(loadFixture('cmd_create_indexes').entries);
    assert.deepEqual(outcomes(results), [
      'applied',
      'applied',
      'ignored-command',
      'applied',
      'ignored-command',
      'ignored-command',
      'applied',
    ]);
    assert.match(results[2]?.reason ?? '', /commitIndexBuild/);
    assertIndexes(
      target,
      'shop.orders',
      `[
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"sku": 1}, "name": "sku_1", "unique": true},
        {"v": 2, "key": {"a": 1, "b": -1}, "name": "a_1_b_-1"},
        {"v": 2, "key": {"loc": "2dsphere"}, "name": "loc_2dsphere", "2dsphereIndexVersion": 3},
        {"v": 1, "key": {"legacy": 1}, "name": "legacy_1", "sparse": true}
      ]`,
    );
    assert.deepEqual(target.namespaces(), ['shop.orders']);
  });
});
