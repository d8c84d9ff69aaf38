import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALERT_CODES, type JobState } from '@tidemark/domain';
import { foldAlert } from './alert-fold';
import { newJobRecord } from './create-job-input';
import { countJobs, needsResync } from './job-counts';
import { applyUserAction } from './job-actions';
import type { JobRecord } from './job-record';
import { MemoryJobRepository } from './memory-job-repository';

const now = new Date('2026-03-01T00:00:00Z');

function job(id: string, state: JobState): JobRecord {
  const created = newJobRecord(
    { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] },
    id,
    now,
  );
  if (state === 'inactive') return created;
  return { ...applyUserAction(created, 'start', { now, messageId: () => `m-${id}` }), state };
}

function resyncRequired(j: JobRecord): JobRecord {
  const result = foldAlert(j, {
    alertId: `gap-${j.id}`,
    jobId: j.id,
    severity: 'critical',
    code: ALERT_CODES.resyncRequired,
    message: 'backup requires a resync',
    context: { syncId: j.syncId ?? '' },
    at: now,
  });
  assert.equal(result.outcome, 'applied');
  return result.outcome === 'applied' ? result.job : j;
}

describe('job counts', () => {
  it('needsResync: a RESYNC_REQUIRED alert of the current sync, unless the job is inactive', () => {
    const active = job('aaaa0001', 'active');
    assert.equal(needsResync(active), false);
    assert.equal(needsResync(resyncRequired(active)), true);
    assert.equal(needsResync({ ...resyncRequired(active), state: 'stopped' }), true);
    assert.equal(needsResync({ ...resyncRequired(active), state: 'inactive' }), false);
  });

  it('countJobs pages through every job: counts by state and jobs needing a resync', async () => {
    const repo = new MemoryJobRepository();
    const states: JobState[] = ['active', 'active', 'stopped', 'initial-sync', 'inactive'];
    // More than one page of 1000.
    for (let k = 0; k < 1003; k++) {
      const id = `job${String(k).padStart(5, '0')}`;
      const state = states[k % states.length]!;
      const record = job(id, state);
      assert.equal(
        await repo.insert(k % 100 === 0 && state !== 'inactive' ? resyncRequired(record) : record),
        true,
      );
    }
    const counts = await countJobs(repo);
    assert.deepEqual(counts.byState, { inactive: 200, 'initial-sync': 200, active: 402, stopped: 201 });
    // k % 100 === 0 and k % 5 !== 4: every multiple of 100 is a multiple of 5, so state index 0 (active): 11 jobs.
    assert.equal(counts.resyncRequired, 11);
  });
});
