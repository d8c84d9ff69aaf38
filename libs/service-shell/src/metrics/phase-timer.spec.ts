import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Phase } from '@tidemark/domain';
import { PhaseTimer } from './phase-timer';

const at = (s: number) => new Date(s * 1000);
const report = (phase: Phase, s: number, syncId = 'j-s1') => ({ jobId: 'j', syncId, phase, at: at(s) });

describe('PhaseTimer', () => {
  it('a phase ends when a later phase is first reported; its duration is between the first reports', () => {
    const timer = new PhaseTimer();
    assert.equal(timer.report(report('starting', 100)), undefined);
    assert.equal(timer.report(report('starting', 105)), undefined, 'progress of the same phase');
    assert.deepEqual(timer.report(report('transferring', 112)), { phase: 'starting', seconds: 12 });
    assert.equal(timer.report(report('starting', 113)), undefined, 'a late report of a phase left');
    // A skipped phase: transferring ends when applying-oplogs is reported.
    assert.deepEqual(timer.report(report('applying-oplogs', 212)), { phase: 'transferring', seconds: 100 });
    assert.deepEqual(timer.report(report('complete', 222)), { phase: 'applying-oplogs', seconds: 10 });
    assert.equal(timer.size, 0, 'a complete sync is forgotten');
    assert.equal(timer.report(report('complete', 230)), undefined);
  });

  it('syncs are timed apart, and at most maxSyncs are followed', () => {
    const timer = new PhaseTimer(2);
    timer.report(report('starting', 0, 's1'));
    timer.report(report('starting', 0, 's2'));
    timer.report(report('starting', 0, 's3'));
    assert.equal(timer.size, 2);
    assert.equal(timer.report(report('transferring', 5, 's1')), undefined, 's1 was forgotten (the oldest)');
    assert.deepEqual(timer.report(report('transferring', 5, 's3')), { phase: 'starting', seconds: 5 });
  });
});
