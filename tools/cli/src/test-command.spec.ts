import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { findSpecs, isSolo } from './test-command';

describe('tidemark test: which specs run alone', () => {
  it('runs *.solo.int-spec.ts files alone: the fairness, the read-limit and the scaling specs', () => {
    assert.equal(isSolo('apps/e2e/test/fairness.solo.int-spec.ts'), true);
    assert.equal(isSolo('apps/e2e/test/backup.int-spec.ts'), false);
    const root = path.resolve(__dirname, '../../..');
    const solo = findSpecs(root, { unit: false, integration: true, only: [] }).filter(isSolo);
    assert.deepEqual(solo.map((f) => path.relative(root, f)).sort(), [
      'apps/agent/test/read-limit.solo.int-spec.ts',
      'apps/e2e/test/fairness.solo.int-spec.ts',
      'apps/e2e/test/scaling.solo.int-spec.ts',
    ]);
  });
});
