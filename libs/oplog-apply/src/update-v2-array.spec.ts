import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonical, assertDocuments, loadFixture, replay } from './spec-support';

const EXPECTED = `[{
  "_id": 1,
  "arr": [1, 20, 3, 4, null, 6],
  "nested": [{"a": 1}, {"a": 3, "b": true}],
  "matrix": [[1], [3, 4], [5]]
}]`;

describe('fixture update_v2_array', () => {
  const { entries } = loadFixture('update_v2_array');

  it('shrinks with l, pads with null past the end, applies sub-diffs inside arrays (post-image strategy)', async () => {
    const { target, applier } = await replay(entries.slice(0, 2));
    assert.equal(applier.updateStrategy, 'post-image');
    assertDocuments(
      target,
      'app.lists',
      '[{"_id": 1, "arr": [1, 20, 3], "nested": [{"a": 1}, {"a": 2}], "matrix": [[1, 2], [3, 4]]}]',
    );
    const all = await replay(entries);
    assertDocuments(all.target, 'app.lists', EXPECTED);
  });

  it('gives the same document when the diffs are translated to $set/$unset and $push/$slice (modifier strategy)', async () => {
    const viaModifiers = await replay(entries, { updateStrategy: 'modifier' });
    assert.equal(viaModifiers.applier.updateStrategy, 'modifier');
    assertDocuments(viaModifiers.target, 'app.lists', EXPECTED);
    const viaPostImage = await replay(entries);
    assert.equal(
      canonical(viaModifiers.target.documents('app.lists')),
      canonical(viaPostImage.target.documents('app.lists')),
    );
  });
});
