import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PhaseRegressionError } from './errors';
import { PHASES, assertPhaseAdvance, isPhase, isPhaseAdvance, nextPhase, phaseIndex } from './phase';

describe('phases', () => {
  it('are in the documented order', () => {
    assert.deepEqual(PHASES, [
      'starting',
      'transferring',
      'building',
      'applying-oplogs',
      'fetching-missing-documents',
      'creating-indexes',
      'complete',
    ]);
    assert.equal(phaseIndex('starting'), 0);
    assert.equal(phaseIndex('complete'), 6);
  });

  it('step forward one at a time and end after complete', () => {
    assert.equal(nextPhase('starting'), 'transferring');
    assert.equal(nextPhase('creating-indexes'), 'complete');
    assert.equal(nextPhase('complete'), undefined);
  });

  it('are recognised by the guard', () => {
    assert.ok(isPhase('applying-oplogs'));
    assert.ok(!isPhase('applying'));
    assert.ok(!isPhase(3));
  });
});

describe('assertPhaseAdvance', () => {
  it('accepts the first report, a repeated phase and a skip forward', () => {
    assertPhaseAdvance(undefined, 'building');
    assertPhaseAdvance('building', 'building');
    assertPhaseAdvance('transferring', 'creating-indexes');
    assert.ok(isPhaseAdvance('starting', 'complete'));
  });

  it('rejects every backward move with a non-retriable PhaseRegressionError', () => {
    for (let later = 1; later < PHASES.length; later += 1) {
      for (let earlier = 0; earlier < later; earlier += 1) {
        const from = PHASES[later]!;
        const to = PHASES[earlier]!;
        assert.ok(!isPhaseAdvance(from, to));
        assert.throws(
          () => assertPhaseAdvance(from, to, { jobId: 'j1', syncId: 's1' }),
          (err: unknown) =>
            err instanceof PhaseRegressionError &&
            !err.retriable &&
            err.from === from &&
            err.to === to &&
            /job j1, sync s1/.test(err.message),
        );
      }
    }
  });
});
