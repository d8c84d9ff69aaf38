import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture txn_abort', () => {
  it('drops the buffered operations of an aborted prepared transaction', async () => {
    const { target, results, applier } = await replay(loadFixture('txn_abort').entries);
    assert.deepEqual(outcomes(results), ['applied', 'buffered', 'buffered', 'aborted', 'applied']);
    assert.equal(results[3]?.reason, 'buffered operations dropped');
    assertDocuments(target, 'bank.orders', '[{"_id": 1, "total": 10}, {"_id": 3, "total": 30}]');
    assert.deepEqual(applier.openTransactions(), []);
    assert.equal(applier.resumeFrom(), undefined);
  });
});
