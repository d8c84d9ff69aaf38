import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture update_v2_diff_nested', () => {
  const { entries } = loadFixture('update_v2_diff_nested');

  it("applies d/u/i sections and nested sub-diffs in the server's field order", async () => {
    const { target } = await replay(entries.slice(0, 2));
    assertDocuments(
      target,
      'app.profiles',
      '[{"_id": 1, "name": "b", "address": {"city": "Y", "zip": "1", "geo": {"lat": 3}, "country": "Z"}, "keep": 1, "added": 1}]',
    );
  });

  it('moves a field named in "i" to the end, appends a "u" field the document lacks, ignores a sub-diff on a missing field', async () => {
    const { target, results } = await replay(entries);
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied']);
    assertDocuments(
      target,
      'app.profiles',
      '[{"_id": 1, "address": {"city": "Y", "zip": "1", "country": "Z", "geo": {"lat": 0}}, "keep": 2, "added": 1, "name": "c", "extra": true}]',
    );
  });
});
