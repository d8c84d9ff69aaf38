import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newJobRecord } from './create-job-input';
import { agentJob, parseDetailTs, percentOf, redactUri, jobStatus, jobView } from './views';

describe('views', () => {
  it('percent: bigint ratio with one decimal, capped at 100, null without a total', () => {
    assert.equal(percentOf(1n, 3n), 33.3);
    assert.equal(percentOf(9_007_199_254_740_993n, 9_007_199_254_740_993n), 100);
    assert.equal(percentOf(5n, 4n), 100);
    assert.equal(percentOf(5n, null), null);
    assert.equal(percentOf(5n, 0n), null);
  });

  it('removes credentials from a URI, keeping host, path and harmless options', () => {
    assert.equal(
      redactUri('mongodb://u:p@h1:1,h2:2/db?replicaSet=rs0&authSource=admin'),
      'mongodb://h1:1,h2:2/db?replicaSet=rs0&authSource=admin',
    );
    assert.equal(
      redactUri(
        'mongodb+srv://c.example/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:x',
      ),
      'mongodb+srv://c.example/?authMechanism=MONGODB-AWS',
    );
    assert.equal(redactUri('mongodb://h/?tlsCertificateKeyFilePassword=x'), 'mongodb://h/');
  });

  it('reads positions in details in the t.i and t:i forms', () => {
    assert.deepEqual(parseDetailTs('1700000000.5'), { t: 1_700_000_000, i: 5 });
    assert.deepEqual(parseDetailTs('1700000000:5'), { t: 1_700_000_000, i: 5 });
    assert.equal(parseDetailTs('soon'), undefined);
    assert.equal(parseDetailTs(undefined), undefined);
  });

  it('a new job: status with nulls and an empty head mapping; view with its allowed actions', () => {
    const job = newJobRecord(
      { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] },
      'abcd1234',
      new Date(0),
    );
    const status = jobStatus(job, {
      head: undefined,
      latestStoredOplogTs: undefined,
      entriesAfterApplied: undefined,
      backupUri: 'mongodb://b/',
    });
    assert.deepEqual(status, {
      id: 'abcd1234',
      project: 'p',
      state: 'inactive',
      phase: null,
      syncId: null,
      syncNo: 0,
      progress: {
        docsCopied: '0',
        docsTotal: null,
        bytesCopied: '0',
        bytesTotal: null,
        percent: null,
        stage: null,
        namespaces: [],
      },
      appliedOpTime: null,
      lag: { seconds: null, entries: null },
      head: { uri: 'mongodb://b/', namespaces: {} },
      source: { serverVersion: null, featureCompatibilityVersion: null },
      alerts: [],
      blocked: null,
      lastSnapshot: null,
      snapshots: 0,
      restorableWindow: null,
      readLimit: null,
    });
    assert.deepEqual(jobView(job).allowedActions, ['start']);
    assert.equal(JSON.parse(JSON.stringify(jobView(job))).createdAt, '1970-01-01T00:00:00.000Z');
  });

  it('shows the read limit in the job, its status and the agent’s list (null: uncapped)', () => {
    const job = newJobRecord(
      { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [], readLimit: 2.5 },
      'abcd1234',
      new Date(0),
    );
    const facts = {
      head: undefined,
      latestStoredOplogTs: undefined,
      entriesAfterApplied: undefined,
      backupUri: 'b',
    };
    assert.equal(jobView(job).readLimit, 2.5);
    assert.equal(jobStatus(job, facts).readLimit, 2.5);
    assert.equal(agentJob(job).readLimit, 2.5);
    const { readLimit: _r, ...uncapped } = job;
    assert.equal(jobView(uncapped).readLimit, null);
    assert.equal(agentJob(uncapped).readLimit, null);
  });
});
