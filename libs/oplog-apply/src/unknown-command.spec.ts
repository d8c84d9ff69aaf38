import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownOplogCommandError } from '@tidemark/domain';
import { OplogApplier } from './applier';
import { MemoryApplyTarget } from './memory-target';
import { assertDocuments, loadFixture } from './spec-support';

describe('fixture unknown_command', () => {
  it('skips an unknown command on an excluded database, and stops with UnknownOplogCommandError otherwise', async () => {
    const { entries } = loadFixture('unknown_command');
    const target = new MemoryApplyTarget();
    const applier = new OplogApplier(target);
    assert.equal((await applier.applyEntry(entries[0])).outcome, 'applied');
    const excluded = await applier.applyEntry(entries[1]);
    assert.equal(excluded.outcome, 'skipped-namespace');
    assert.equal(excluded.reason, 'database config is excluded');
    await assert.rejects(applier.applyEntry(entries[2]), (err: unknown) => {
      assert.ok(err instanceof UnknownOplogCommandError);
      assert.equal(err.command, 'frobnicate');
      assert.deepEqual(err.ts, { t: 1700000000, i: 3 });
      assert.equal(err.namespace, 'shop.$cmd');
      assert.equal(err.retriable, false);
      return true;
    });
    assertDocuments(target, 'shop.orders', '[{"_id": 1}]');
  });

  it('does not throw for an unknown command at or after the until bound (nothing there is applied)', async () => {
    const { entries } = loadFixture('unknown_command');
    const applier = new OplogApplier(new MemoryApplyTarget(), { until: { t: 1700000000, i: 3 } });
    const results = [];
    for (const entry of entries) results.push((await applier.applyEntry(entry)).outcome);
    assert.deepEqual(results, ['applied', 'skipped-namespace', 'until-reached', 'until-reached']);
  });
});
