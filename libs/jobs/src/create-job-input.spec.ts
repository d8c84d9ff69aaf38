import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CREDENTIALS_IN_URI, parseCreateJobRequest } from './create-job-input';
import { JobValidationError } from './job-errors';

function problemsOf(body: unknown): readonly string[] {
  try {
    parseCreateJobRequest(body);
  } catch (err) {
    assert.ok(err instanceof JobValidationError);
    return err.problems;
  }
  assert.fail('expected a JobValidationError');
}

describe('parseCreateJobRequest', () => {
  it('accepts { project, source: { uri }, include?, exclude? }', () => {
    assert.deepEqual(
      parseCreateJobRequest({ project: 'p', source: { uri: 'mongodb://h/' }, include: ['a.b'] }),
      {
        project: 'p',
        sourceUri: 'mongodb://h/',
        include: ['a.b'],
        exclude: [],
      },
    );
  });

  it('lists every shape problem at once', () => {
    assert.deepEqual(problemsOf(null), ['the body must be a JSON object']);
    assert.deepEqual(problemsOf({ source: 'mongodb://h/', include: 'a', exclude: [1] }), [
      'project is required (a string)',
      'source.uri is required (a mongodb:// or mongodb+srv:// URI)',
      'include must be an array of namespaces ("db" or "db.collection")',
      'exclude must be an array of namespaces ("db" or "db.collection")',
    ]);
  });

  it('refuses credentials in the source URI with the agent’s variables in the message', () => {
    assert.deepEqual(problemsOf({ project: 'p', source: { uri: 'mongodb://u:pw@h/' } }), [
      CREDENTIALS_IN_URI,
    ]);
    assert.match(CREDENTIALS_IN_URI, /TIDEMARK_SOURCE_USERNAME and TIDEMARK_SOURCE_PASSWORD/);
  });

  it('checks a schedule when one is given, over the defaults, and refuses fields it does not take', () => {
    const problems = problemsOf({
      project: 'p',
      source: { uri: 'mongodb://h/' },
      schedule: { intervalMinutes: 0, retention: { baseMinutes: 1, daily: -1 } },
    });
    assert.deepEqual(problems, [
      'schedule.intervalMinutes must be an integer >= 1',
      'schedule.retention.daily must be an integer >= 0',
    ]);
    assert.deepEqual(
      problemsOf({
        project: 'p',
        source: { uri: 'mongodb://h/' },
        schedule: { intervalHours: 1, retention: { snapshots: 2 } },
      }),
      [
        'schedule.intervalHours is not a field (schedule takes intervalMinutes, retention, pointInTimeWindowHours)',
        'schedule.retention.snapshots is not a field (schedule.retention takes baseMinutes, daily, weekly, monthly)',
      ],
    );
    const input = parseCreateJobRequest({
      project: 'p',
      source: { uri: 'mongodb://h/' },
      schedule: { intervalMinutes: 15, retention: { daily: 3 } },
    });
    assert.deepEqual(input.schedule, {
      intervalMinutes: 15,
      retention: { baseMinutes: 2880, daily: 3, weekly: 4, monthly: 12 },
      pointInTimeWindowHours: 24,
    });
  });

  it('takes a read limit in MB/s (absent or null: uncapped) and refuses a bad one with the reason', () => {
    const base = { project: 'p', source: { uri: 'mongodb://h/' } };
    assert.equal(parseCreateJobRequest({ ...base, readLimit: 2.5 }).readLimit, 2.5);
    assert.equal(parseCreateJobRequest(base).readLimit, undefined);
    assert.equal(parseCreateJobRequest({ ...base, readLimit: null }).readLimit, undefined);
    for (const [bad, expected] of [
      [0, /readLimit must be greater than 0/],
      [-3, /readLimit must be greater than 0/],
      ['5MB/s', /readLimit must be a number of MB\/s .* got "5MB\/s"/],
      [1e9, /readLimit must be a number of MB\/s from 0\.01 to 10000/],
    ] as const) {
      const problems = problemsOf({ ...base, readLimit: bad });
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, expected);
    }
  });

  it('takes the snapshot store: the blockstore by default, a filesystem store with its absolute path', () => {
    assert.deepEqual(
      parseCreateJobRequest({
        project: 'p',
        source: { uri: 'mongodb://h/' },
        snapshotStore: { kind: 'filesystem', path: '/srv/snapshots', encryptionKeyFile: '/run/keys/k' },
      }).snapshotStore,
      { kind: 'filesystem', path: '/srv/snapshots', encryptionKeyFile: '/run/keys/k' },
    );
    assert.deepEqual(
      problemsOf({
        project: 'p',
        source: { uri: 'mongodb://h/' },
        snapshotStore: { kind: 'tape', bucket: 'b' },
      }),
      ['snapshotStore.bucket is not a field (snapshotStore takes kind, path, encryptionKeyFile)'],
    );
    assert.deepEqual(
      problemsOf({ project: 'p', source: { uri: 'mongodb://h/' }, snapshotStore: { kind: 'filesystem' } }),
      ['snapshotStore.path must be an absolute path (at most 1024 characters, no control characters)'],
    );
  });
});
