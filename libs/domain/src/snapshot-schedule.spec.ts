import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SNAPSHOT_SCHEDULE,
  MAX_SNAPSHOT_INTERVAL_MINUTES,
  MIN_SNAPSHOT_INTERVAL_MINUTES,
  formatDurationMinutes,
  parseDurationMinutes,
  parseRetention,
  scheduleFromV1,
  validateSnapshotSchedule,
  validateSnapshotStoreSpec,
} from './snapshot-schedule';

describe('snapshot schedule', () => {
  it('defaults to every 6 h, all kept 2 days, 7 daily, 4 weekly, 12 monthly, and is valid', () => {
    assert.equal(DEFAULT_SNAPSHOT_SCHEDULE.intervalMinutes, 360);
    assert.deepEqual(DEFAULT_SNAPSHOT_SCHEDULE.retention, {
      baseMinutes: 2880,
      daily: 7,
      weekly: 4,
      monthly: 12,
    });
    assert.deepEqual(validateSnapshotSchedule(DEFAULT_SNAPSHOT_SCHEDULE), []);
  });

  it('rejects zero intervals, fractional and negative counts, a missing retention', () => {
    assert.deepEqual(
      validateSnapshotSchedule({
        intervalMinutes: 0,
        pointInTimeWindowHours: -1,
        retention: { baseMinutes: 0, daily: 1.5, weekly: -1, monthly: 0 },
      }),
      [
        'intervalMinutes must be an integer >= 1',
        'pointInTimeWindowHours must be an integer >= 0',
        'retention.baseMinutes must be an integer >= 1',
        'retention.daily must be an integer >= 0',
        'retention.weekly must be an integer >= 0',
      ],
    );
    assert.deepEqual(validateSnapshotSchedule({ intervalMinutes: 5, pointInTimeWindowHours: 0 } as never), [
      'retention must be an object { baseMinutes, daily, weekly, monthly }',
    ]);
  });

  it('takes an interval from 5 minutes to 7 days, and a base retention no shorter than the interval', () => {
    assert.equal(MIN_SNAPSHOT_INTERVAL_MINUTES, 5);
    assert.equal(MAX_SNAPSHOT_INTERVAL_MINUTES, 10080);
    const retention = DEFAULT_SNAPSHOT_SCHEDULE.retention;
    const schedule = (intervalMinutes: number, baseMinutes = retention.baseMinutes) => ({
      ...DEFAULT_SNAPSHOT_SCHEDULE,
      intervalMinutes,
      retention: { ...retention, baseMinutes },
    });
    for (const ok of [5, 15, 360, 1440, 10080]) {
      assert.deepEqual(validateSnapshotSchedule(schedule(ok, Math.max(ok, 5))), [], String(ok));
    }
    assert.deepEqual(validateSnapshotSchedule(schedule(4)), [
      'intervalMinutes must be from 5 to 10080 (5m to 1w)',
    ]);
    assert.deepEqual(validateSnapshotSchedule(schedule(10081, 20000)), [
      'intervalMinutes must be from 5 to 10080 (5m to 1w)',
    ]);
    assert.deepEqual(validateSnapshotSchedule(schedule(360, 60)), [
      'retention.baseMinutes (1h) must be at least intervalMinutes (6h): every scheduled snapshot is kept until ' +
        'the next one is taken',
    ]);
  });

  it('reads durations in minutes, hours, days and weeks, and writes them back', () => {
    assert.equal(parseDurationMinutes('15m'), 15);
    assert.equal(parseDurationMinutes('6h'), 360);
    assert.equal(parseDurationMinutes(' 2d '), 2880);
    assert.equal(parseDurationMinutes('1w'), 10080);
    for (const bad of ['', '0m', '6', 'h', '1.5h', '-1h', '6H', '6 h', '99999999m', '1y']) {
      assert.throws(() => parseDurationMinutes(bad, 'interval'), /interval ".*" is not a duration/, bad);
    }
    assert.equal(formatDurationMinutes(360), '6h');
    assert.equal(formatDurationMinutes(2880), '2d');
    assert.equal(formatDurationMinutes(10080), '1w');
    assert.equal(formatDurationMinutes(90), '90m');
  });

  it('reads a retention over the defaults, and names the bad part', () => {
    assert.deepEqual(parseRetention('base=2d,daily=7,weekly=4,monthly=12'), {
      baseMinutes: 2880,
      daily: 7,
      weekly: 4,
      monthly: 12,
    });
    assert.deepEqual(parseRetention('daily=0, base=30m'), {
      baseMinutes: 30,
      daily: 0,
      weekly: 4,
      monthly: 12,
    });
    assert.throws(() => parseRetention('hourly=3'), /retention key "hourly" is not one of/);
    assert.throws(() => parseRetention('daily=x'), /retention daily "x" must be a whole number/);
    assert.throws(() => parseRetention('daily=1,daily=2'), /each key once/);
    assert.throws(() => parseRetention('base'), /must be key=value/);
    assert.throws(() => parseRetention('base=2'), /retention base "2" is not a duration/);
  });

  it('names every bad part of a retention at once', () => {
    assert.throws(
      () => parseRetention('base=2x,daily=-1,hourly=3,weekly,monthly=5,monthly=6'),
      (err: unknown) => {
        assert.ok(err instanceof RangeError);
        assert.deepEqual(err.message.split('; '), [
          'retention base "2x" is not a duration: give a whole number and m, h, d or w (e.g. 6h, 15m, 2d)',
          'retention daily "-1" must be a whole number',
          'retention key "hourly" is not one of base, daily, weekly, monthly',
          'retention part "weekly" must be key=value, each key once',
          'retention part "monthly=6" must be key=value, each key once',
        ]);
        return true;
      },
    );
  });

  it('reads a format-1 schedule (hours, a count of snapshots) as the same schedule in minutes', () => {
    assert.deepEqual(
      scheduleFromV1({
        intervalHours: 6,
        retention: { snapshots: 4, daily: 7, weekly: 4, monthly: 12 },
        pointInTimeWindowHours: 24,
      }),
      {
        intervalMinutes: 360,
        retention: { baseMinutes: 1440, daily: 7, weekly: 4, monthly: 12 },
        pointInTimeWindowHours: 24,
      },
    );
  });
});

describe('snapshot store spec', () => {
  it('needs an absolute path for the filesystem store and only there', () => {
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 'blockstore' }), []);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 'filesystem', path: '/var/backups' }), []);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 'filesystem' }), [
      'path must be an absolute path (at most 1024 characters, no control characters)',
    ]);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 'filesystem', path: 'rel/dir' }).length, 1);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 'filesystem', path: '/a\u0000b' }).length, 1);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 's3', path: '/x' }), [
      'path is only for the filesystem store, not s3',
    ]);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 'tape' as never }), [
      'kind must be one of blockstore, s3, filesystem',
    ]);
    assert.deepEqual(validateSnapshotStoreSpec({ kind: 's3', encryptionKeyFile: 'key' }), [
      'encryptionKeyFile must be an absolute path (at most 1024 characters, no control characters)',
    ]);
  });
});
