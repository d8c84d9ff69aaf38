import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture ops_i_u_d', () => {
  it('applies inserts, $v:2 and $v:1 updates and a delete, keeping BSON types and field order', async () => {
    const { target, results, applier } = await replay(loadFixture('ops_i_u_d').entries);
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    assertDocuments(
      target,
      'shop.orders',
      '[{"_id": {"$oid": "65a1f0c2e4b0a1b2c3d4e5f6"}, "item": "apple", "qty": 6, "price": {"$numberDecimal": "1.25"}}]',
    );
    assertDocuments(
      target,
      'shop.customers',
      '[{"_id": "c1", "name": "Ann", "since": {"$date": "2023-01-02T03:04:05.000Z"}, "visits": {"$numberLong": "7"}}]',
    );
    assert.deepEqual(target.namespaces(), ['shop.customers', 'shop.orders']);
    assert.deepEqual(applier.missingDocuments(), []);
  });

  it('reports per-entry counts and positions for metrics', async () => {
    const { results } = await replay(loadFixture('ops_i_u_d').entries);
    assert.deepEqual(results[2]?.ts, { t: 1700000000, i: 3 });
    assert.equal(results[2]?.counts.updated, 1);
    assert.equal(results[4]?.counts.deleted, 1);
    const total = results.reduce((sum, result) => sum + result.counts.inserted, 0);
    assert.equal(total, 3);
  });
});
