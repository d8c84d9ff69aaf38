import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RETENTION,
  InvalidRetentionError,
  applyRetention,
  formatDuration,
  parseRetention,
  parseSnapshotInterval,
  type RetainedSnapshot,
} from './retention';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date('2026-12-03T12:00:00.000Z'); // a Thursday

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
    const { keep, expire } = applyRetention(snapshots, DEFAULT_RETENTION, now);
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
    // the schedule reaches; the policy asks for 12).
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
      DEFAULT_RETENTION,
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
    const policy = { ...DEFAULT_RETENTION, daily: 0, weekly: 0, monthly: 0 };
    const { keep } = applyRetention(schedule(), policy, now);
    assert.equal(keep.length, 8);
    const mixed: RetainedSnapshot[] = [
      { snapshotId: 'ok', takenAt: new Date('2026-11-20T06:00:00.000Z'), state: 'complete' },
      { snapshotId: 'bad', takenAt: new Date('2026-11-20T18:00:00.000Z'), state: 'failed' },
    ];
    const decision = applyRetention(mixed, DEFAULT_RETENTION, now);
    assert.deepEqual(decision.keep, [{ snapshotId: 'ok', reasons: ['weekly 2026-W47', 'monthly 2026-11'] }]);
  });

  it('uses ISO weeks across a year boundary', () => {
    const sunday = new Date('2021-01-03T10:00:00.000Z');
    const { keep } = applyRetention(
      [{ snapshotId: 'a', takenAt: sunday, state: 'complete' }],
      { ...DEFAULT_RETENTION, daily: 0, monthly: 0 },
      new Date('2021-01-07T00:00:00.000Z'),
    );
    assert.deepEqual(keep[0]?.reasons, ['weekly 2020-W53']);
  });
});

describe('parsing --snapshot-interval and --retention', () => {
  it('parses intervals in minutes, hours and days', () => {
    assert.equal(parseSnapshotInterval('6h'), 6 * HOUR);
    assert.equal(parseSnapshotInterval('15m'), 15 * 60_000);
    assert.equal(parseSnapshotInterval('1d'), DAY);
    assert.throws(() => parseSnapshotInterval('1m'), /outside 5m\.\.7d/);
    assert.throws(() => parseSnapshotInterval('6 hours'), /"6 hours" is not a duration like 15m, 6h or 2d/);
    assert.throws(() => parseSnapshotInterval('-6h'), InvalidRetentionError);
    assert.equal(formatDuration(90 * 60_000), '90m');
  });

  it('parses a retention, defaults for what is left out', () => {
    assert.deepEqual(parseRetention('base=2d,daily=7,weekly=4,monthly=12'), DEFAULT_RETENTION);
    assert.deepEqual(parseRetention('monthly=24, base=36h', 15 * 60_000), {
      intervalMs: 15 * 60_000,
      baseRetentionMs: 36 * HOUR,
      daily: 7,
      weekly: 4,
      monthly: 24,
    });
    assert.deepEqual(parseRetention(''), DEFAULT_RETENTION);
  });

  it('lists every problem', () => {
    assert.throws(
      () => parseRetention('base=2x,daily=-1,hourly=3,weekly,monthly=5,monthly=6'),
      (err: unknown) => {
        assert.ok(err instanceof InvalidRetentionError);
        assert.deepEqual(err.problems, [
          'base "2x" is not a duration like 15m, 6h or 2d',
          'daily=-1: need a whole number 0..1000',
          'unknown key "hourly" (known: base, daily, weekly, monthly)',
          '"weekly" is not key=value',
          'monthly is given twice',
        ]);
        return true;
      },
    );
    assert.throws(
      () => parseRetention('base=1h'),
      /base retention 1h is shorter than the snapshot interval 6h/,
    );
  });
});
