import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { newJobRecord } from '@tidemark/jobs';
import { classifyMongoError } from '@tidemark/mongo';
import { uniqueDbName } from '@tidemark/testing';
import { JOB_DOCUMENT_FORMAT, toJobDocument } from './job-document';
import { JOBS_COLLECTION, MongoJobRepository } from './mongo-job-repository';

describe('MongoJobRepository format versions (backup-side server)', () => {
  let client: MongoClient;
  const dbName = uniqueDbName('t_jobs_repo_v');
  const now = new Date('2026-03-01T00:00:00.000Z');
  const job = (id: string) =>
    newJobRecord({ project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] }, id, now);
  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('writes v: 3 and reads a job without v as version 1 (hours and a snapshot count, no store)', async () => {
    const repo = new MongoJobRepository(client, dbName, classifyMongoError);
    await repo.init();
    const jobs = client.db(dbName).collection<{ _id: string; v?: unknown }>(JOBS_COLLECTION);
    assert.equal(await repo.insert(job('aaaa0001')), true);
    assert.equal((await jobs.findOne({ _id: 'aaaa0001' }))?.v, JOB_DOCUMENT_FORMAT.current);
    assert.equal(JOB_DOCUMENT_FORMAT.current, 3);
    assert.deepEqual(await repo.get('aaaa0001'), job('aaaa0001'));
    // What a build before format 2 wrote: no v, the schedule in hours with a count of snapshots, no store.
    await jobs.updateOne(
      { _id: 'aaaa0001' },
      {
        $unset: { v: '', snapshotStore: '' },
        $set: {
          schedule: {
            intervalHours: 6,
            retention: { snapshots: 4, daily: 7, weekly: 4, monthly: 12 },
            pointInTimeWindowHours: 24,
          },
        },
      },
    );
    const read = await repo.get('aaaa0001');
    assert.deepEqual(read, {
      ...job('aaaa0001'),
      schedule: {
        intervalMinutes: 360,
        retention: { baseMinutes: 1440, daily: 7, weekly: 4, monthly: 12 },
        pointInTimeWindowHours: 24,
      },
      snapshotStore: { kind: 'blockstore' },
    });
    assert.equal(await repo.replace({ ...read!, revision: read!.revision + 1 }, read!.revision), true);
    assert.equal((await jobs.findOne({ _id: 'aaaa0001' }))?.v, 3, 'the next write stores format 3');
  });

  it('refuses a job of an unknown version in get and list, and never replaces it', async () => {
    const repo = new MongoJobRepository(client, dbName, classifyMongoError);
    await repo.init();
    const jobs = client.db(dbName).collection<{ _id: string; v?: unknown }>(JOBS_COLLECTION);
    // What a newer job-state might store: the same _id and revision, a layout this build does not know.
    const future = { ...toJobDocument(job('ffff0001')), v: 4, spec: { source: 'moved' } };
    await jobs.insertOne(future);
    const refused = (err: unknown) => {
      assert.ok(err instanceof UnknownFormatVersionError, String(err));
      assert.equal(err.recordKind, 'job');
      assert.equal(err.found, 4);
      assert.deepEqual(err.known, [1, 2, 3]);
      assert.equal(err.where, `${dbName}.jobs _id "ffff0001"`);
      assert.equal(err.retriable, false);
      assert.match(err.message, /format version 4 is unknown to this build/);
      return true;
    };
    await assert.rejects(repo.get('ffff0001'), refused);
    await assert.rejects(repo.list({ limit: 100 }), refused);
    assert.equal(
      await repo.replace({ ...job('ffff0001'), revision: future.revision + 1 }, future.revision),
      false,
      'a replace matches only versions this build reads',
    );
    assert.equal(await repo.insert(job('ffff0001')), false);
    assert.deepEqual(await jobs.findOne({ _id: 'ffff0001' }), future, 'never written over');
  });
});
