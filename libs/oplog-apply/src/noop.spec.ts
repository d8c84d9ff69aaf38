import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture noop', () => {
  it('skips no-op entries, whatever their namespace and payload', async () => {
    const { target, results } = await replay(loadFixture('noop').entries);
    assert.deepEqual(outcomes(results), ['skipped-op', 'skipped-op', 'applied', 'skipped-op', 'skipped-op']);
    assert.match(results[0]?.reason ?? '', /no-op/);
    assert.deepEqual(target.namespaces(), ['app.things']);
    assertDocuments(target, 'app.things', '[{"_id": 1}]');
  });
});
