import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OplogApplier } from './applier';
import { MemoryApplyTarget } from './memory-target';
import { loadFixture } from './spec-support';

describe('fixture cmd_drop_indexes', () => {
  it('drops by name, by the old command name, by key pattern, then all but _id_', async () => {
    const { entries } = loadFixture('cmd_drop_indexes');
    const target = new MemoryApplyTarget();
    const applier = new OplogApplier(target);
    const names = (): string[] => target.indexes('shop.orders').map((spec) => spec.name);
    const after: string[][] = [];
    for (const entry of entries) {
      const result = await applier.applyEntry(entry);
      assert.equal(result.outcome, 'applied');
      after.push(names());
    }
    assert.deepEqual(after, [
      ['_id_', 'a_1', 'b_1', 'c_1', 'd_1'],
      ['_id_', 'b_1', 'c_1', 'd_1'],
      ['_id_', 'c_1', 'd_1'],
      ['_id_', 'd_1'],
      ['_id_'],
    ]);
  });
});
