import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertSyncId, foldAlert } from './alert-fold';
import { newJobRecord } from './create-job-input';
import { applyUserAction } from './job-actions';
import { MAX_JOB_ALERTS, type JobRecord } from './job-record';
import type { Alert } from '@tidemark/domain';

const now = new Date('2026-03-01T00:00:00Z');

function active(): JobRecord {
  const job = newJobRecord(
    { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] },
    'abcd1234',
    now,
  );
  return {
    ...applyUserAction(job, 'start', { now, messageId: () => 'm' }),
    state: 'active',
    phase: 'complete',
  };
}

function alert(over: Partial<Alert> = {}): Alert {
  return {
    alertId: 'a-1',
    jobId: 'abcd1234',
    severity: 'critical',
    code: 'SLICE_REJECTED',
    message: 'slice abcd1234-s1:o:1.0:2.0 was rejected and dead-lettered',
    context: { sliceId: 'abcd1234-s1:o:1.0:2.0', reason: 'checksum' },
    at: new Date(7),
    ...over,
  };
}

function fold(job: JobRecord, a: Alert): JobRecord {
  const result = foldAlert(job, a);
  return result.outcome === 'applied' ? result.job : job;
}

describe('foldAlert', () => {
  it('SLICE_REJECTED blocks the job with the alert’s code and message', () => {
    const job = fold(active(), alert());
    assert.deepEqual(job.blocked, {
      code: 'SLICE_REJECTED',
      message: alert().message,
      alertId: 'a-1',
      at: new Date(7),
    });
    assert.equal(job.alerts.length, 1);
    assert.equal(job.alerts[0]?.syncId, 'abcd1234-s1');
  });

  it('RESYNC_REQUIRED is recorded as an alert without blocking', () => {
    const job = fold(
      active(),
      alert({ alertId: 'r-1', code: 'RESYNC_REQUIRED', message: 'backup requires a resync', context: {} }),
    );
    assert.equal(job.blocked, undefined);
    assert.equal(job.alerts[0]?.code, 'RESYNC_REQUIRED');
  });

  it('is idempotent by alert id and keeps the first block', () => {
    const once = fold(active(), alert());
    assert.deepEqual(foldAlert(once, alert()), { outcome: 'unchanged' });
    const twice = fold(once, alert({ alertId: 'a-2', message: 'second' }));
    assert.equal(twice.blocked?.alertId, 'a-1');
    assert.equal(twice.alerts.length, 2);
  });

  it('ignores an alert about an earlier sync', () => {
    assert.deepEqual(foldAlert(active(), alert({ context: { sliceId: 'abcd1234-s0:i:a.b:1' } })), {
      outcome: 'stale-sync',
    });
    assert.deepEqual(foldAlert(active(), alert({ context: { syncId: 'abcd1234-s7' } })), {
      outcome: 'stale-sync',
    });
  });

  it('keeps only the newest alerts', () => {
    let job = active();
    for (let n = 0; n < MAX_JOB_ALERTS + 5; n++)
      job = fold(job, alert({ alertId: `x-${n}`, code: 'RESYNC_REQUIRED', context: {} }));
    assert.equal(job.alerts.length, MAX_JOB_ALERTS);
    assert.equal(job.alerts.at(-1)?.alertId, `x-${MAX_JOB_ALERTS + 4}`);
  });

  it('reads the sync from context.syncId or the sliceId prefix', () => {
    assert.equal(alertSyncId(alert({ context: { syncId: 'j-s2', sliceId: 'j-s1:o:1.0:2.0' } })), 'j-s2');
    assert.equal(alertSyncId(alert({ context: { sliceId: 'j-s1:c:scan' } })), 'j-s1');
    assert.equal(alertSyncId(alert({ context: {} })), undefined);
  });
});
