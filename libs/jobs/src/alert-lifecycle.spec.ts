import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALERT_CODES } from '@tidemark/domain';
import {
  alertChanges,
  ChangeClock,
  DEFAULT_ALERT_THRESHOLDS,
  jobAlertConditions,
  jobCloseReason,
  stageAlertConditions,
  type AlertThresholds,
  type JobAlertFacts,
  type OpenAlertKey,
  type StagePartitionFacts,
} from './alert-lifecycle';
import type { JobAlert } from './job-record';
import { newRestoreEntry, type RestoreEntry } from './restore-catalog';
import { requestedEntry, type SnapshotEntry } from './snapshot-catalog';

const T: AlertThresholds = { oplogBehindMs: 60_000, lagHighSeconds: 30, stageIdleMs: 120_000 };
const now = new Date('2026-03-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

function facts(over: Partial<JobAlertFacts> = {}, job: Partial<JobAlertFacts['job']> = {}): JobAlertFacts {
  return {
    job: { id: 'j1', state: 'active', syncId: 'j1-s1', alerts: [], sourceTs: undefined, ...job },
    latestStoredOplogTs: undefined,
    latestStoredSince: undefined,
    lagSeconds: 0,
    snapshots: [],
    restores: [],
    ...over,
  };
}

const codes = (f: JobAlertFacts, t = T) => jobAlertConditions(f, t, now).map((c) => `${c.code}:${c.subject}`);

function snapshot(id: string, state: SnapshotEntry['state'], at: Date, over: Partial<SnapshotEntry> = {}) {
  return { ...requestedEntry('j1', id, 'blockstore', at), state, takenAt: at, completedAt: at, ...over };
}

function restore(id: string, state: RestoreEntry['state'], endedAt: Date): RestoreEntry {
  return {
    ...newRestoreEntry({
      restoreId: id,
      jobId: 'j1',
      kind: 'snapshot',
      snapshotId: 's',
      point: undefined,
      at: undefined,
      target: 'mongodb://t/',
      selection: { include: [], exclude: [], renames: [] },
      drop: false,
      now: endedAt,
    }),
    state,
    endedAt,
    reason: state === 'failed' ? 'target refused the write' : undefined,
  };
}

function raised(code: string, syncId: string, alertId = `${code}-1`): JobAlert {
  return {
    alertId,
    code,
    severity: 'critical',
    message: `${code} happened`,
    context: {},
    at: ago(5),
    syncId,
  };
}

describe('alert lifecycle: conditions per kind', () => {
  it('RESYNC_REQUIRED (and every raised code) holds for the current sync, under the stage alert id, once per code', () => {
    const f = facts(
      {},
      {
        alerts: [
          raised('RESYNC_REQUIRED', 'j1-s1', 'r1'),
          raised('RESYNC_REQUIRED', 'j1-s1', 'r2'),
          raised('APPLY_FAILED', 'j1-s1'),
        ],
      },
    );
    const c = jobAlertConditions(f, T, now);
    assert.deepEqual(
      c.map((x) => [x.code, x.subject, x.alertId]),
      [
        ['RESYNC_REQUIRED', 'j1-s1', 'r1'],
        ['APPLY_FAILED', 'j1-s1', 'APPLY_FAILED-1'],
      ],
    );
    // A resync: the job is in sync 2 and its alerts are those of sync 2 (none) -> nothing holds, and it closes.
    const resynced = facts({}, { syncId: 'j1-s2', alerts: [raised('RESYNC_REQUIRED', 'j1-s1', 'r1')] });
    assert.deepEqual(codes(resynced), []);
    const open: OpenAlertKey = { alertId: 'r1', jobId: 'j1', code: 'RESYNC_REQUIRED', subject: 'j1-s1' };
    const changes = alertChanges(jobAlertConditions(resynced, T, now), [open], (a) =>
      jobCloseReason(a, resynced, T),
    );
    assert.equal(changes.close.length, 1);
    assert.match(changes.close[0]!.reason, /sync j1-s1 ended: the job is in sync j1-s2 now/);
    // Open for the current sync, its raise pushed out of the job's newest 20 alerts: it stays open.
    const pushedOut = facts({}, { alerts: [] });
    const stays = alertChanges(jobAlertConditions(pushedOut, T, now, [open]), [open], () => 'n/a');
    assert.deepEqual([stays.open, stays.close], [[], []]);
    // Alerts of the lifecycle's own codes folded back into the job are not "raised" conditions.
    assert.deepEqual(codes(facts({}, { alerts: [raised('SNAPSHOT_FAILED', 'j1-s1')] })), []);
  });

  it('OPLOG_BEHIND holds only when the source wrote past the newest stored slice and it stayed newest for the window', () => {
    const behind = (sinceMs: number, stored = { t: 100, i: 0 }, sourceTs = { t: 130, i: 1 }) =>
      facts({ latestStoredOplogTs: stored, latestStoredSince: ago(sinceMs) }, { sourceTs });
    assert.deepEqual(codes(behind(59_999)), [], 'inside the window');
    assert.deepEqual(codes(behind(60_000)), ['OPLOG_BEHIND:j1-s1']);
    assert.deepEqual(
      codes(behind(3_600_000, { t: 130, i: 1 })),
      [],
      'the source wrote nothing new: no alert',
    );
    assert.deepEqual(codes(behind(3_600_000, { t: 131, i: 0 })), [], 'stored is ahead of the last report');
    assert.deepEqual(
      codes(behind(60_000), { ...T, oplogBehindMs: 600_000 }),
      [],
      'threshold is configurable',
    );
    const stopped = facts(
      { latestStoredOplogTs: { t: 1, i: 0 }, latestStoredSince: ago(1e9) },
      { state: 'stopped', sourceTs: { t: 9, i: 0 } },
    );
    assert.deepEqual(codes(stopped), [], 'a stopped job does not tail');
    const c = jobAlertConditions(behind(120_000), T, now)[0]!;
    assert.match(
      c.message,
      /^oplog is behind: no oplog slice stored for job j1 since .* while the source wrote up to 130:1$/,
    );
    const caughtUp = behind(0, { t: 131, i: 0 });
    const reason = jobCloseReason(
      { alertId: 'x', jobId: 'j1', code: 'OPLOG_BEHIND', subject: 'j1-s1' },
      caughtUp,
      T,
    );
    assert.equal(reason, 'oplog stored up to 131:0');
  });

  it('LAG_HIGH holds above the threshold for an active job, and closes when the lag is back within it', () => {
    assert.deepEqual(codes(facts({ lagSeconds: 30 })), []);
    assert.deepEqual(codes(facts({ lagSeconds: 31 })), ['LAG_HIGH:j1-s1']);
    assert.deepEqual(codes(facts({ lagSeconds: 31 }), { ...T, lagHighSeconds: 60 }), []);
    assert.deepEqual(codes(facts({ lagSeconds: 999 }, { state: 'initial-sync' })), [], 'only active jobs');
    assert.deepEqual(codes(facts({ lagSeconds: null })), []);
    const reason = jobCloseReason(
      { alertId: 'x', jobId: 'j1', code: 'LAG_HIGH', subject: 'j1-s1' },
      facts({ lagSeconds: 4 }),
      T,
    );
    assert.equal(reason, 'lag 4 s is within 30 s');
  });

  it('SNAPSHOT_FAILED holds while the newest finished snapshot failed; a later completed one closes it', () => {
    const failed = snapshot('s2', 'failed', ago(1000), { reason: 'fence busy' });
    const older = snapshot('s1', 'complete', ago(5000));
    assert.deepEqual(codes(facts({ snapshots: [older, failed] })), ['SNAPSHOT_FAILED:j1']);
    const c = jobAlertConditions(facts({ snapshots: [failed] }), T, now)[0]!;
    assert.equal(c.message, 'snapshot s2 failed: fence busy');
    const later = snapshot('s3', 'complete', ago(10));
    const f = facts({ snapshots: [later, older, failed] });
    assert.deepEqual(codes(f), []);
    assert.equal(
      jobCloseReason({ alertId: 'x', jobId: 'j1', code: 'SNAPSHOT_FAILED', subject: 'j1' }, f, T),
      'snapshot s3 completed',
    );
    assert.deepEqual(
      codes(facts({ snapshots: [failed, snapshot('s4', 'in-progress', ago(1))] })),
      ['SNAPSHOT_FAILED:j1'],
      'in progress decides nothing',
    );
  });

  it('VERIFY_FAILED holds per damaged snapshot; an intact verify, or the snapshot gone, closes it', () => {
    const verify = (ok: boolean) => ({
      requestId: 'r',
      ok,
      damagedBlocks: ok ? 0 : 2,
      reason: ok ? undefined : 'checksum',
      at: ago(1),
    });
    const damaged = snapshot('s1', 'complete', ago(100), { lastVerify: verify(false) });
    assert.deepEqual(codes(facts({ snapshots: [damaged] })), ['VERIFY_FAILED:s1']);
    assert.deepEqual(codes(facts({ snapshots: [{ ...damaged, lastVerify: verify(true) }] })), []);
    assert.deepEqual(codes(facts({ snapshots: [{ ...damaged, state: 'deleted' }] })), []);
    const key = { alertId: 'x', jobId: 'j1', code: 'VERIFY_FAILED', subject: 's1' };
    assert.match(
      jobCloseReason(key, facts({ snapshots: [{ ...damaged, lastVerify: verify(true) }] }), T),
      /found snapshot s1 intact/,
    );
    assert.equal(
      jobCloseReason(key, facts({ snapshots: [{ ...damaged, state: 'expired' }] }), T),
      'snapshot s1 is expired',
    );
  });

  it('RESTORE_FAILED holds while the newest finished restore failed; cancelled and running ones decide nothing', () => {
    const failed = restore('r2', 'failed', ago(100));
    assert.deepEqual(codes(facts({ restores: [restore('r1', 'complete', ago(500)), failed] })), [
      'RESTORE_FAILED:j1',
    ]);
    assert.deepEqual(codes(facts({ restores: [failed, restore('r3', 'cancelled', ago(1))] })), [
      'RESTORE_FAILED:j1',
    ]);
    const f = facts({ restores: [failed, restore('r4', 'complete', ago(1))] });
    assert.deepEqual(codes(f), []);
    assert.equal(
      jobCloseReason({ alertId: 'x', jobId: 'j1', code: 'RESTORE_FAILED', subject: 'j1' }, f, T),
      'restore r4 completed',
    );
  });

  it('nothing holds for a terminated (inactive) job', () => {
    const f = facts(
      { lagSeconds: 999, snapshots: [snapshot('s', 'failed', ago(1))] },
      { state: 'inactive', alerts: [raised('RESYNC_REQUIRED', 'j1-s1')] },
    );
    assert.deepEqual(codes(f), []);
    assert.equal(
      jobCloseReason({ alertId: 'x', jobId: 'j1', code: 'LAG_HIGH', subject: 'j1-s1' }, f, T),
      'job j1 was terminated',
    );
  });

  it('STAGE_NOT_CONSUMING holds for a partition with messages to read and nothing committed for the idle time', () => {
    const p = (lag: bigint, idleMs: number): StagePartitionFacts => ({
      stage: 'head-builder',
      group: 'tidemark-head-builder',
      topic: 'tidemark.slices.stored',
      partition: 2,
      lag,
      committed: 40n,
      committedSince: ago(idleMs),
    });
    const subjects = (ps: StagePartitionFacts[], t = T) =>
      stageAlertConditions(ps, t, now).map((c) => `${c.jobId}:${c.subject}`);
    assert.deepEqual(subjects([p(3n, 120_000)]), ['null:tidemark-head-builder/tidemark.slices.stored/2']);
    assert.deepEqual(subjects([p(3n, 119_999)]), []);
    assert.deepEqual(subjects([p(0n, 1e9)]), [], 'nothing to read: idle is fine');
    assert.deepEqual(subjects([p(3n, 120_000)], { ...T, stageIdleMs: 300_000 }), []);
  });
});

describe('alert lifecycle: open and close', () => {
  const key = (code: string, subject: string, alertId = `${code}-open`): OpenAlertKey => ({
    alertId,
    jobId: 'j1',
    code,
    subject,
  });

  it('opens what holds and is not open, keeps what holds and is open, closes what no longer holds', () => {
    const f = facts({ lagSeconds: 100, snapshots: [snapshot('s1', 'failed', ago(1))] });
    const first = alertChanges(jobAlertConditions(f, T, now), [], () => 'n/a');
    assert.deepEqual(first.open.map((c) => c.code).sort(), ['LAG_HIGH', 'SNAPSHOT_FAILED']);
    assert.deepEqual(first.close, []);
    const open = [key('LAG_HIGH', 'j1-s1'), key('SNAPSHOT_FAILED', 'j1')];
    const again = alertChanges(jobAlertConditions(f, T, now), open, () => 'n/a');
    assert.deepEqual([again.open, again.close], [[], []], 'an open alert is not opened twice');
    const better = facts({ lagSeconds: 1, snapshots: [snapshot('s1', 'failed', ago(1))] });
    const closing = alertChanges(jobAlertConditions(better, T, now), open, (a) =>
      jobCloseReason(a, better, T),
    );
    assert.deepEqual(closing.open, []);
    assert.deepEqual(
      closing.close.map((c) => [c.alert.code, c.reason]),
      [['LAG_HIGH', 'lag 1 s is within 30 s']],
    );
  });

  it('the defaults are 10 min without a stored slice, 5 min of lag, 5 min without a commit', () => {
    assert.deepEqual(DEFAULT_ALERT_THRESHOLDS, {
      oplogBehindMs: 600_000,
      lagHighSeconds: 300,
      stageIdleMs: 300_000,
    });
  });

  it('ChangeClock: since stays while the value stays, and moves when it changes', () => {
    const clock = new ChangeClock();
    assert.equal(clock.observe('k', 'a', ago(100)).getTime(), ago(100).getTime());
    assert.equal(clock.observe('k', 'a', ago(50)).getTime(), ago(100).getTime());
    assert.equal(clock.observe('k', 'b', ago(10)).getTime(), ago(10).getTime());
    clock.retain('k', new Set());
    assert.equal(clock.observe('k', 'b', now).getTime(), now.getTime(), 'forgotten keys start again');
    assert.equal(ALERT_CODES.oplogBehind, 'OPLOG_BEHIND');
  });
});
