import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyMongoError } from './classify-mongo-error';
import { connectMongo, pingMongo } from './connect-mongo';

describe('connectMongo against the backup-side server', () => {
  const endpoints = resolveEndpoints();
  const dbName = `tidemark_mongo_it_${randomBytes(4).toString('hex')}`;
  let client: MongoClient;

  before(async () => {
    client = await connectMongo(endpoints.backup.uri, { appName: 'tidemark-mongo-int-spec' });
  });

  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('pings the server', async () => {
    await pingMongo(client);
  });

  it('writes and reads back with majority write concern', async () => {
    const coll = client.db(dbName).collection<{ _id: string; n: number }>('probe');
    await coll.insertOne({ _id: 'a', n: 1 }, { writeConcern: { w: 'majority' } });
    assert.deepEqual(await coll.findOne({ _id: 'a' }), { _id: 'a', n: 1 });
  });

  it('classifies a real duplicate-key error from the server as fatal', async () => {
    const coll = client.db(dbName).collection<{ _id: string }>('dup');
    await coll.insertOne({ _id: 'x' });
    const err = await coll.insertOne({ _id: 'x' }).then(
      () => assert.fail('second insert should fail'),
      (e: unknown) => e,
    );
    const verdict = classifyMongoError(err);
    assert.equal(verdict.retriable, false);
    assert.match(verdict.reason, /duplicate key/);
  });

  it('fails fast, with a retriable error, when no server listens', async () => {
    const started = Date.now();
    const err = await connectMongo('mongodb://127.0.0.1:9/?directConnection=true', {
      appName: 'tidemark-mongo-int-spec',
      serverSelectionTimeoutMS: 500,
    }).then(
      () => assert.fail('connect should fail'),
      (e: unknown) => e,
    );
    assert.ok(Date.now() - started < 5_000, 'serverSelectionTimeoutMS is honoured');
    assert.equal(classifyMongoError(err).retriable, true);
  });
});
