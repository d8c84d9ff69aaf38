import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PHASES, type Phase } from '@tidemark/domain';
import { newJobRecord } from './create-job-input';
import { applyUserAction } from './job-actions';
import type { JobRecord } from './job-record';
import type { PhaseReport } from '@tidemark/domain';
import { foldPhaseReport } from './phase-fold';

const now = new Date('2026-03-01T00:00:00Z');

function syncing(syncNo = 1): JobRecord {
  let job = newJobRecord(
    { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] },
    'abcd1234',
    now,
  );
  let n = 0;
  const ctx = { now, messageId: () => `m${++n}` };
  job = applyUserAction(job, 'start', ctx);
  for (let s = 2; s <= syncNo; s++) job = applyUserAction(job, 'resync', ctx);
  return { ...job, outbox: [] };
}

function report(phase: Phase, over: Partial<PhaseReport> = {}): PhaseReport {
  return {
    jobId: 'abcd1234',
    syncId: 'abcd1234-s1',
    phase,
    stage: 'agent',
    progress: { docsCopied: 1n, docsTotal: 10n, bytesCopied: 2n, bytesTotal: null, namespaces: [] },
    appliedTs: undefined,
    sourceTs: undefined,
    details: {},
    at: new Date(1_000),
    ...over,
  };
}

function fold(job: JobRecord, r: PhaseReport): JobRecord {
  const result = foldPhaseReport(job, r);
  return result.outcome === 'applied' ? result.job : job;
}

describe('foldPhaseReport', () => {
  it('walks every phase forward and completes the sync: initial-sync -> active', () => {
    let job = syncing();
    for (const phase of PHASES) {
      job = fold(job, report(phase));
      assert.equal(job.phase, phase);
      assert.equal(job.state, phase === 'complete' ? 'active' : 'initial-sync');
    }
  });

  it('never moves the phase back, but keeps the earlier phase’s newer progress', () => {
    let job = fold(syncing(), report('building', { stage: 'head-builder' }));
    job = fold(
      job,
      report('transferring', {
        at: new Date(2_000),
        progress: { ...report('starting').progress, docsCopied: 9n },
      }),
    );
    assert.equal(job.phase, 'building');
    assert.equal(job.progress.find((e) => e.phase === 'transferring')?.docsCopied, 9n);
  });

  it('ignores reports of another sync (stale, or a sync job-state never began)', () => {
    const job = syncing(2);
    assert.equal(job.syncId, 'abcd1234-s2');
    assert.deepEqual(foldPhaseReport(job, report('complete', { syncId: 'abcd1234-s1' })), {
      outcome: 'stale-sync',
    });
    assert.deepEqual(foldPhaseReport(job, report('complete', { syncId: 'abcd1234-s3' })), {
      outcome: 'stale-sync',
    });
  });

  it('is idempotent: the same report twice changes nothing the second time', () => {
    const once = fold(syncing(), report('transferring'));
    assert.deepEqual(foldPhaseReport(once, report('transferring')), { outcome: 'unchanged' });
  });

  it('keeps the newer of two progress reports of one stage, per stage', () => {
    let job = fold(
      syncing(),
      report('transferring', {
        at: new Date(5_000),
        progress: { ...report('starting').progress, docsCopied: 50n },
      }),
    );
    job = fold(
      job,
      report('transferring', {
        at: new Date(4_000),
        progress: { ...report('starting').progress, docsCopied: 40n },
      }),
    );
    job = fold(job, report('transferring', { stage: 'slice-ingest', at: new Date(3_000) }));
    const agent = job.progress.find((e) => e.stage === 'agent');
    assert.equal(agent?.docsCopied, 50n, 'an older report does not replace a newer one');
    assert.equal(job.progress.length, 2);
  });

  it('keeps the newest source position and merges details', () => {
    let job = fold(
      syncing(),
      report('transferring', {
        sourceTs: { t: 10, i: 5 },
        details: { startTs: '9.1', serverVersion: '7.0.1' },
      }),
    );
    job = fold(job, report('transferring', { sourceTs: { t: 10, i: 2 }, details: { endTs: '12.0' } }));
    assert.deepEqual(job.sourceTs, { t: 10, i: 5 });
    assert.deepEqual(job.details, { startTs: '9.1', serverVersion: '7.0.1', endTs: '12.0' });
    job = fold(job, report('complete', { sourceTs: { t: 11, i: 0 } }));
    assert.deepEqual(job.sourceTs, { t: 11, i: 0 });
  });

  it('on completion of sync N marks syncs 1..N-1 for deletion; of sync 1, none', () => {
    assert.equal(fold(syncing(1), report('complete')).pendingDeletionThrough, 0);
    const third = fold(syncing(3), report('complete', { syncId: 'abcd1234-s3' }));
    assert.equal(third.state, 'active');
    assert.equal(third.pendingDeletionThrough, 2);
  });

  it('does not reactivate a stopped job when a straggling COMPLETE arrives', () => {
    let n = 0;
    const stopped = applyUserAction(syncing(), 'stop', { now, messageId: () => `s${++n}` });
    const job = fold(stopped, report('complete'));
    assert.equal(job.state, 'stopped');
  });
});
