import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OplogApplier } from './applier';
import type { UpdateStrategy } from './applier';
import { MemoryApplyTarget } from './memory-target';
import { assertDocuments, loadFixture, replay, stateOf } from './spec-support';

describe('fixture redelivery_idempotent', () => {
  const { entries } = loadFixture('redelivery_idempotent');

  it('reaches the expected state', async () => {
    const { target } = await replay(entries);
    assert.deepEqual(target.namespaces(), ['shop.orders', 'shop.report']);
    assertDocuments(target, 'shop.orders', '[{"_id": 3, "qty": 9}, {"_id": 2, "qty": 6, "again": true}]');
    assertDocuments(target, 'shop.report', '[{"_id": "r1", "total": 8}]');
    assert.deepEqual(
      target.indexes('shop.orders').map((spec) => spec.name),
      ['_id_', 'qty_-1'],
    );
  });

  it('gives the same state when every entry is applied twice in a row', async () => {
    const once = await replay(entries);
    const twice = await replay([...entries, ...entries]);
    assert.equal(stateOf(twice.target), stateOf(once.target));
  });

  for (const strategy of ['post-image', 'modifier'] as UpdateStrategy[]) {
    it(`gives the same state when a restart replays everything over any prefix (${strategy})`, async () => {
      const expected = stateOf((await replay(entries)).target);
      for (let crashAfter = 0; crashAfter <= entries.length; crashAfter += 1) {
        const target = new MemoryApplyTarget();
        await replay(entries.slice(0, crashAfter), { target, updateStrategy: strategy });
        // A new applier, as after a process restart: the transaction buffer starts empty.
        await replay(entries, { target, applier: new OplogApplier(target, { updateStrategy: strategy }) });
        assert.equal(stateOf(target), expected, `crash after ${crashAfter} entries`);
      }
    });
  }

  it('writes null where a re-applied sub-diff meets a later type change, and the later entries restore the value', async () => {
    // Entry 4 is a sub-diff of "meta"; entry 5 turns "meta" into a string; entry 6 makes it a document again.
    const { target, applier } = await replay(entries.slice(0, 6));
    await applier.applyEntry(entries[4]);
    assertDocuments(
      target,
      'shop.orders',
      '[{"_id": 1, "qty": 3, "items": [{"sku": "a"}, {"sku": "b", "n": 2}], "meta": null}, {"_id": 2, "qty": 2}]',
    );
    await replay(entries.slice(5, 7), { target, applier });
    assertDocuments(
      target,
      'shop.orders',
      '[{"_id": 1, "items": [{"sku": "a"}, {"sku": "b", "n": 2}], "meta": {"z": 3}, "qty": 4}, {"_id": 2, "qty": 2}]',
    );
  });
});
