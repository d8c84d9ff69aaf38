import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OplogApplier } from './applier';
import { OplogApplyError, TransactionBufferOverflowError, UnreplayableEntryError } from './errors';
import { MemoryApplyTarget } from './memory-target';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture txn_partial_commit', () => {
  const { entries } = loadFixture('txn_partial_commit');

  it('holds partialTxn entries until the commit, then applies them in order', async () => {
    const target = new MemoryApplyTarget();
    const applier = new OplogApplier(target);
    const results = [];
    for (const entry of entries.slice(0, 4)) results.push(await applier.applyEntry(entry));
    assert.deepEqual(outcomes(results), ['applied', 'buffered', 'applied', 'buffered']);
    // Nothing of the transaction is visible before its commit; the interleaved write is.
    assertDocuments(target, 'bank.orders', '[]');
    assertDocuments(target, 'bank.accounts', '[{"_id": "a", "balance": 90}]');
    assert.deepEqual(applier.resumeFrom(), { t: 1700000000, i: 2 });
    assert.equal(applier.openTransactions()[0]?.ops, 4);

    const commit = await applier.applyEntry(entries[4]);
    assert.equal(commit.outcome, 'applied');
    assert.equal(commit.counts.inserted, 3);
    assert.equal(commit.counts.deleted, 1);
    assertDocuments(
      target,
      'bank.orders',
      '[{"_id": 1, "total": 10, "paid": true}, {"_id": 3, "total": 30}]',
    );
    assert.equal(applier.resumeFrom(), undefined);
  });

  it('holds a prepared transaction until commitTransaction', async () => {
    const { target, results, applier } = await replay(entries);
    assert.deepEqual(outcomes(results).slice(5), ['buffered', 'applied']);
    assert.match(results[5]?.reason ?? '', /prepared/);
    assertDocuments(
      target,
      'bank.orders',
      '[{"_id": 1, "total": 10, "paid": true}, {"_id": 3, "total": 30}, {"_id": 4, "total": 40}]',
    );
    assert.deepEqual(applier.openTransactions(), []);
  });

  it('refuses a commit whose earlier entries were not seen (a replay started inside the transaction)', async () => {
    await assert.rejects(replay(entries.slice(3)), (err: unknown) => {
      assert.ok(err instanceof OplogApplyError);
      assert.ok(err.cause instanceof UnreplayableEntryError);
      assert.match(err.message, /resumeFrom/);
      return true;
    });
  });

  it('stops with a clear error when the transaction buffer would exceed its bounds', async () => {
    await assert.rejects(replay(entries, { transactionBuffer: { maxOps: 3 } }), (err: unknown) => {
      assert.ok(err instanceof OplogApplyError);
      assert.ok(err.cause instanceof TransactionBufferOverflowError);
      assert.equal(err.retriable, false);
      assert.deepEqual(err.context.ts, { t: 1700000000, i: 4 });
      return true;
    });
    await assert.rejects(replay(entries, { transactionBuffer: { maxBytes: 100 } }), /maxBytes = 100/);
  });
});
