import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture update_replacement', () => {
  const { entries } = loadFixture('update_replacement');

  it('replaces the whole document, keeps _id, and upserts a replacement of a missing document', async () => {
    const { target, results, applier } = await replay(entries.slice(0, 4));
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied']);
    assertDocuments(target, 'app.docs', '[{"_id": 1, "x": 1}, {"_id": 2, "y": 1}]');
    assert.equal(results[3]?.counts.replaced, 1);
    assert.deepEqual(
      applier.missingDocuments(),
      [],
      'a replacement carries the whole document: nothing to fetch',
    );
  });

  it("applies FerretDB's whole-document $set as a replacement, so removed fields go away", async () => {
    const { target, results } = await replay(entries);
    assert.equal(results[4]?.counts.replaced, 1);
    assertDocuments(target, 'app.docs', '[{"_id": 1, "z": 9, "w": [1]}, {"_id": 2, "y": 1}]');
  });
});
