import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture update_v1_set_unset', () => {
  it('applies $set/$unset with dotted paths and array indexes, with and without $v', async () => {
    const { target, results } = await replay(loadFixture('update_v1_set_unset').entries);
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    assertDocuments(
      target,
      'app.users',
      `[
        {"_id": 1, "a": 1, "b": {"c": 10, "e": {"f": 1}}, "arr": [null, 20, 3], "new": "x"},
        {"_id": 2, "name": "zz", "list": {"2": "c"}, "x": {"y": {"z": 1}}}
      ]`,
    );
  });

  it('creates missing parents as documents ("list.2" makes {"2": ...}) and new fields in field-name order', async () => {
    const { target } = await replay(loadFixture('update_v1_set_unset').entries);
    // {"x.y.z", "list.2", "name"} on {_id, name}: name updated in place, then list before x (sorted by name).
    assert.deepEqual(Object.keys(target.documents('app.users')[1] ?? {}), ['_id', 'name', 'list', 'x']);
  });
});
