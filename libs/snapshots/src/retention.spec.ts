import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SnapshotRetention } from '@tidemark/domain';
import { applyRetention, type RetainedSnapshot } from './retention';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date('2026-12-03T12:00:00.000Z'); // a Thursday
/** A schedule's retention, in minutes: every snapshot of the last 2 days, then 7 daily, 4 weekly, 12 monthly. */
const RETENTION: SnapshotRetention = { baseMinutes: 2 * 24 * 60, daily: 7, weekly: 4, monthly: 12 };

/** A complete snapshot every 6 hours for 100 days, up to `now`. */
function schedule(): RetainedSnapshot[] {
  const out: RetainedSnapshot[] = [];
  for (let t = now.getTime() - 100 * DAY; t <= now.getTime(); t += 6 * HOUR) {
    out.push({ snapshotId: new Date(t).toISOString(), takenAt: new Date(t), state: 'complete' });
  }
  return out;
}

describe('applyRetention', () => {
  it('keeps everything within the base retention and the newest of each recent day, week and month', () => {
    const snapshots = schedule();
    const { keep, expire } = applyRetention(snapshots, RETENTION, now);
    assert.equal(keep.length + expire.length, snapshots.length);
    const kept = new Map(keep.map((k) => [k.snapshotId, k.reasons]));
    // Base: younger than 2 days (12:00 two days ago is exactly 2 days old, so not base).
    const base = keep.filter((k) => k.reasons.includes('base')).map((k) => k.snapshotId);
    assert.deepEqual(base, [
      '2026-12-01T18:00:00.000Z',
      '2026-12-02T00:00:00.000Z',
      '2026-12-02T06:00:00.000Z',
      '2026-12-02T12:00:00.000Z',
      '2026-12-02T18:00:00.000Z',
      '2026-12-03T00:00:00.000Z',
      '2026-12-03T06:00:00.000Z',
      '2026-12-03T12:00:00.000Z',
    ]);
    // Daily: today (newest is now) and the 6 days before, each its 18:00 snapshot.
    assert.deepEqual(kept.get('2026-12-03T12:00:00.000Z')?.includes('daily 2026-12-03'), true);
    for (const day of ['2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']) {
      assert.ok(kept.get(`${day}T18:00:00.000Z`)?.includes(`daily ${day}`), day);
    }
    assert.equal(kept.has('2026-11-26T18:00:00.000Z'), false);
    // Weekly: ISO weeks 49 (this one), 48, 47, 46: their newest is the Sunday 18:00 (this week's: now).
    assert.ok(kept.get('2026-12-03T12:00:00.000Z')?.includes('weekly 2026-W49'));
    for (const [sunday, week] of [
      ['2026-11-29', '2026-W48'],
      ['2026-11-22', '2026-W47'],
      ['2026-11-15', '2026-W46'],
    ]) {
      assert.ok(kept.get(`${sunday}T18:00:00.000Z`)?.includes(`weekly ${week}`), week);
    }
    assert.equal(kept.has('2026-11-08T18:00:00.000Z'), false);
    // Monthly: December (now), then the last snapshot of November, October, September and August (the first month
    // the schedule reaches; the retention asks for 12).
    for (const [last, month] of [
      ['2026-11-30', '2026-11'],
      ['2026-10-31', '2026-10'],
      ['2026-09-30', '2026-09'],
      ['2026-08-31', '2026-08'],
    ]) {
      assert.ok(kept.get(`${last}T18:00:00.000Z`)?.includes(`monthly ${month}`), month);
    }
    assert.ok(kept.get('2026-12-03T12:00:00.000Z')?.includes('monthly 2026-12'));
    // 8 base; daily adds Nov 27-30 (Dec 1-3 are base); weekly adds W47 and W46 (W48's Sunday is daily); monthly
    // adds October, September and August (November's last is daily).
    assert.equal(keep.length, 8 + 4 + 2 + 3);
    assert.ok(expire.every((e) => e.reason === 'outside the base retention and not kept by any period'));
  });

  it('keeps recent in-progress and failed snapshots; expires abandoned and old failed ones', () => {
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR);
    const { keep, expire } = applyRetention(
      [
        { snapshotId: 'running', takenAt: at(1), state: 'in-progress' },
        { snapshotId: 'abandoned', takenAt: at(72), state: 'in-progress' },
        { snapshotId: 'failed-new', takenAt: at(5), state: 'failed' },
        { snapshotId: 'failed-old', takenAt: at(60), state: 'failed' },
      ],
      RETENTION,
      now,
    );
    assert.deepEqual(
      keep.map((k) => [k.snapshotId, k.reasons]),
      [
        ['running', ['in-progress']],
        ['failed-new', ['failed, kept for diagnosis']],
      ],
    );
    assert.deepEqual(
      expire.map((e) => e.snapshotId),
      ['abandoned', 'failed-old'],
    );
    assert.match(expire[0]?.reason ?? '', /in-progress for 3d: abandoned/);
  });

  it('with zero periods keeps only the base retention; failed snapshots never count for a period', () => {
    const baseOnly: SnapshotRetention = { baseMinutes: 2 * 24 * 60, daily: 0, weekly: 0, monthly: 0 };
    const { keep } = applyRetention(schedule(), baseOnly, now);
    assert.equal(keep.length, 8);
    const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
    const short = applyRetention(
      [
        { snapshotId: 'young', takenAt: minutesAgo(29), state: 'complete' },
        { snapshotId: 'old', takenAt: minutesAgo(30), state: 'complete' },
      ],
      { ...baseOnly, baseMinutes: 30 },
      now,
    );
    assert.deepEqual(
      [short.keep.map((k) => k.snapshotId), short.expire.map((e) => e.snapshotId)],
      [['young'], ['old']],
    );
    const mixed: RetainedSnapshot[] = [
      { snapshotId: 'ok', takenAt: new Date('2026-11-20T06:00:00.000Z'), state: 'complete' },
      { snapshotId: 'bad', takenAt: new Date('2026-11-20T18:00:00.000Z'), state: 'failed' },
    ];
    const decision = applyRetention(mixed, RETENTION, now);
    assert.deepEqual(decision.keep, [{ snapshotId: 'ok', reasons: ['weekly 2026-W47', 'monthly 2026-11'] }]);
  });

  it('uses ISO weeks across a year boundary', () => {
    const sunday = new Date('2021-01-03T10:00:00.000Z');
    const { keep } = applyRetention(
      [{ snapshotId: 'a', takenAt: sunday, state: 'complete' }],
      { ...RETENTION, daily: 0, monthly: 0 },
      new Date('2021-01-07T00:00:00.000Z'),
    );
    assert.deepEqual(keep[0]?.reasons, ['weekly 2020-W53']);
  });
});
