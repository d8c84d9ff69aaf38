// The jobs collection as the oplog-applier reads it: documents of job-state's layouts (job views without a state,
// full job records) inserted as they are stored.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { uniqueDbName } from '@tidemark/testing';
import { JOB_VERSIONS_READ, MongoJobPhaseReader } from './mongo-job-phase-reader';

let client: MongoClient | undefined;
async function connect(): Promise<MongoClient> {
  client ??= await new MongoClient(resolveEndpoints().backup.uri).connect();
  return client;
}
after(async () => {
  await client?.close();
});

describe('MongoJobPhaseReader on the backup-side server', () => {
  it('lists the jobs in applying-oplogs or later that apply oplogs, with their sync', async () => {
    const c = await connect();
    const db = uniqueDbName('t_jobs');
    const jobs = c.db(db).collection<Record<string, unknown> & { _id: string }>('jobs');
    try {
      await jobs.insertMany([
        // job-state's job view (no state): phase and syncId only
        { _id: 'view1', jobId: 'view1', syncId: 'view1-s2', phase: 'applying-oplogs' },
        // a full job record: state, syncNo
        { _id: 'rec1', state: 'active', syncId: 'rec1-s3', syncNo: 3, phase: 'complete', blocked: null },
        { _id: 'fetch1', state: 'initial-sync', syncId: 'fetch1-s1', phase: 'fetching-missing-documents' },
        { _id: 'early1', state: 'initial-sync', syncId: 'early1-s1', phase: 'building' },
        { _id: 'stop1', state: 'stopped', syncId: 'stop1-s1', phase: 'complete' },
        {
          _id: 'blocked1',
          state: 'initial-sync',
          syncId: 'blocked1-s1',
          phase: 'applying-oplogs',
          blocked: { code: 'X' },
        },
        { _id: 'odd1', syncId: 'not a sync id', phase: 'applying-oplogs' },
      ]);
      const listed = await new MongoJobPhaseReader(c, db).listApplying();
      assert.deepEqual(
        listed.sort((a, b) => a.jobId.localeCompare(b.jobId)),
        [
          { jobId: 'fetch1', syncId: 'fetch1-s1', syncNo: 1, phase: 'fetching-missing-documents' },
          { jobId: 'rec1', syncId: 'rec1-s3', syncNo: 3, phase: 'complete' },
          { jobId: 'view1', syncId: 'view1-s2', syncNo: 2, phase: 'applying-oplogs' },
        ],
      );
    } finally {
      await c.db(db).dropDatabase();
    }
  });
});

describe('MongoJobPhaseReader: format versions', () => {
  const refusedAs = (where: string, found: unknown) => (err: unknown) => {
    assert.ok(err instanceof UnknownFormatVersionError, String(err));
    assert.equal(err.recordKind, JOB_VERSIONS_READ.kind);
    assert.equal(err.found, found);
    assert.equal(err.where, where);
    assert.equal(err.retriable, false);
    return true;
  };

  it('jobs: the phase reader refuses a job document of an unknown version instead of skipping it', async () => {
    const c = await connect();
    const db = uniqueDbName('t_jobs_v');
    const jobs = c.db(db).collection<Record<string, unknown> & { _id: string }>('jobs');
    try {
      await jobs.insertMany([
        { _id: 'old1', state: 'active', syncId: 'old1-s1', phase: 'complete' },
        { _id: 'cur1', v: 1, state: 'active', syncId: 'cur1-s1', phase: 'complete' },
      ]);
      const reader = new MongoJobPhaseReader(c, db);
      assert.deepEqual((await reader.listApplying()).map((j) => j.jobId).sort(), ['cur1', 'old1']);
      // A version newer than any this build reads (the current one plus one).
      const future = Math.max(...JOB_VERSIONS_READ.reads) + 1;
      await jobs.insertOne({ _id: 'fut1', v: future, state: 'active', syncId: 'fut1-s1', phase: 'complete' });
      await assert.rejects(reader.listApplying(), refusedAs(`${db}.jobs _id "fut1"`, future));
    } finally {
      await c.db(db).dropDatabase();
    }
  });
});
