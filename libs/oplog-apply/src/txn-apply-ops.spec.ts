import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture txn_apply_ops', () => {
  it('applies a one-entry transaction op by op, skipping ops on excluded namespaces and no-ops', async () => {
    const { target, results } = await replay(loadFixture('txn_apply_ops').entries.slice(0, 3));
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied']);
    assert.deepEqual(results[2]?.counts, {
      inserted: 2,
      updated: 2,
      replaced: 0,
      deleted: 1,
      commands: 1,
      missing: 0,
      skipped: 2,
    });
    assertDocuments(target, 'bank.accounts', '[{"_id": "a", "balance": 70}, {"_id": "b", "balance": 30}]');
    assertDocuments(target, 'bank.ledger', '[{"_id": 1, "from": "a", "to": "b", "amount": 30}]');
    assert.deepEqual(target.namespaces(), ['bank.accounts', 'bank.ledger']);
  });

  it('applies an applyOps without a session at once', async () => {
    const { target, applier } = await replay(loadFixture('txn_apply_ops').entries);
    assertDocuments(target, 'bank.audit', '[{"_id": 1, "what": "user applyOps"}]');
    assertDocuments(
      target,
      'bank.accounts',
      '[{"_id": "a", "balance": 70, "checked": true}, {"_id": "b", "balance": 30}]',
    );
    assert.deepEqual(applier.openTransactions(), []);
  });
});
