import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTransitionError } from './errors';
import { applyJobAction, uriHasCredentials, validateBackupJob, type BackupJob } from './job';
import { DEFAULT_SNAPSHOT_SCHEDULE, DEFAULT_SNAPSHOT_STORE } from './snapshot-schedule';

function job(overrides: Partial<BackupJob> = {}): BackupJob {
  return {
    id: 'job-1',
    project: 'acme',
    source: {
      uri: 'mongodb://db1:27017,db2:27017/?replicaSet=rs0',
      auth: {
        mechanism: 'SCRAM-SHA-256',
        username: 'backup',
        authSource: 'admin',
        secretRef: 'acme/backup-pw',
      },
    },
    namespaces: { include: [], exclude: [] },
    schedule: DEFAULT_SNAPSHOT_SCHEDULE,
    snapshotStore: DEFAULT_SNAPSHOT_STORE,
    state: 'inactive',
    phase: undefined,
    syncId: undefined,
    ...overrides,
  };
}

function ids(...values: string[]): { newSyncId(): string } {
  return { newSyncId: () => values.shift() ?? assert.fail('no more sync ids') };
}

describe('uriHasCredentials', () => {
  it('finds user info and AWS session tokens', () => {
    assert.equal(uriHasCredentials('mongodb://u:p@h:27017/'), true);
    assert.equal(uriHasCredentials('mongodb+srv://user@cluster.example.net/db'), true);
    assert.equal(
      uriHasCredentials(
        'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:abc',
      ),
      true,
    );
    assert.equal(uriHasCredentials('mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN%3Aabc'), true);
  });

  it('accepts credential-free URIs, including an @ after the host list', () => {
    assert.equal(uriHasCredentials('mongodb://db1:27017,db2:27017/?replicaSet=rs0'), false);
    assert.equal(uriHasCredentials('mongodb://h/?appName=me@home'), false);
  });

  it('returns undefined for other schemes', () => {
    assert.equal(uriHasCredentials('http://u:p@h/'), undefined);
    assert.equal(uriHasCredentials('db1:27017'), undefined);
  });
});

describe('validateBackupJob', () => {
  it('accepts a well-formed job', () => {
    assert.deepEqual(validateBackupJob(job()), []);
    assert.deepEqual(validateBackupJob(job({ state: 'active', phase: 'complete', syncId: 's1' })), []);
  });

  it('rejects credentials in the URI and points to source.auth', () => {
    const problems = validateBackupJob(job({ source: { uri: 'mongodb://u:secret@h/', auth: undefined } }));
    assert.deepEqual(problems, ['source.uri must not contain credentials; use source.auth']);
  });

  it('collects problems from filters, schedule and state', () => {
    const problems = validateBackupJob(
      job({
        id: ' ',
        source: { uri: 'postgres://h', auth: undefined },
        namespaces: { include: ['local'], exclude: [] },
        schedule: { ...DEFAULT_SNAPSHOT_SCHEDULE, intervalMinutes: 0 },
        state: 'active',
      }),
    );
    assert.deepEqual(problems, [
      'id is empty',
      'source.uri must start with mongodb:// or mongodb+srv://',
      'namespaces: include entry "local": database "local" is never backed up',
      'schedule: intervalMinutes must be an integer >= 1',
      'a job in state "active" must have a syncId and a phase',
    ]);
  });
});

describe('applyJobAction', () => {
  it('walks a job through start, completion, resync, stop, restart and terminate', () => {
    const sync = ids('s1', 's2', 's3');
    let current = applyJobAction(job(), 'start', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['initial-sync', 'starting', 's1']);

    current = applyJobAction({ ...current, phase: 'creating-indexes' }, 'initial-sync-completed', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['active', 'complete', 's1']);

    current = applyJobAction(current, 'resync', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['initial-sync', 'starting', 's2']);

    current = applyJobAction({ ...current, phase: 'transferring' }, 'stop', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['stopped', 'transferring', 's2']);

    current = applyJobAction(current, 'restart', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['initial-sync', 'starting', 's3']);

    current = applyJobAction(current, 'initial-sync-failed', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['stopped', 'starting', 's3']);

    current = applyJobAction(current, 'terminate', sync);
    assert.deepEqual([current.state, current.phase, current.syncId], ['inactive', undefined, undefined]);
  });

  it('does not change the job it was given', () => {
    const before = job();
    applyJobAction(before, 'start', ids('s1'));
    assert.equal(before.state, 'inactive');
  });

  it('throws IllegalTransitionError with the job id for an illegal action', () => {
    assert.throws(
      () => applyJobAction(job(), 'terminate', ids()),
      (err: unknown) => err instanceof IllegalTransitionError && err.jobId === 'job-1',
    );
  });
});
