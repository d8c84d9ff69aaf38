import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertIndexes, canonical, ejson, loadFixture, outcomes, replay } from './spec-support';

describe('fixture cmd_collmod', () => {
  it('changes the validator and validation level, an index TTL, hides an index; ignores obsolete flags', async () => {
    const { target, results } = await replay(loadFixture('cmd_collmod').entries);
    assert.deepEqual(outcomes(results), [
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'ignored-command',
    ]);
    assert.match(results[5]?.reason ?? '', /usePowerOf2Sizes/);
    assert.equal(
      canonical(target.collectionOptions('shop.orders')),
      canonical(ejson('{"validator": {"qty": {"$gte": 1}}, "validationLevel": "moderate"}')),
    );
    assertIndexes(
      target,
      'shop.orders',
      `[
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"created": 1}, "name": "ttl_1", "expireAfterSeconds": 60},
        {"v": 2, "key": {"sku": 1}, "name": "sku_1", "hidden": true}
      ]`,
    );
  });
});
