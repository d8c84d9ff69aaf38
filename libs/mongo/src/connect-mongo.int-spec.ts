import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyMongoError } from './classify-mongo-error';
import { connectMongo, MONGO_DEFAULTS, pingMongo } from './connect-mongo';

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

  it('connects to the deployment the URI names, with the appName given and the documented defaults', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    assert.equal(hello['isWritablePrimary'], true);
    const replicaSet = new URL(endpoints.backup.uri).searchParams.get('replicaSet');
    if (replicaSet !== null) assert.equal(hello['setName'], replicaSet);
    assert.equal(client.options.appName, 'tidemark-mongo-int-spec');
    assert.equal(client.options.serverSelectionTimeoutMS, MONGO_DEFAULTS.serverSelectionTimeoutMS);
    assert.equal(client.options.connectTimeoutMS, MONGO_DEFAULTS.connectTimeoutMS);
    assert.equal(client.options.maxPoolSize, MONGO_DEFAULTS.maxPoolSize);
  });

  it('pings the server: the server counts the ping, and with no server to answer the ping rejects', async () => {
    // Server-wide counters: other clients' pings can only raise them, never hide a missing one.
    const pings = async (): Promise<number> => {
      const status = await client.db('admin').command({ serverStatus: 1 });
      return Number(status['metrics']?.['commands']?.['ping']?.['total']);
    };
    const before = await pings();
    assert.ok(Number.isFinite(before), 'serverStatus reports metrics.commands.ping.total');
    assert.equal(await pingMongo(client), undefined);
    assert.ok((await pings()) >= before + 1, 'the server counted the ping');

    const nobody = new MongoClient('mongodb://127.0.0.1:9/?directConnection=true', {
      serverSelectionTimeoutMS: 300,
    });
    try {
      await assert.rejects(pingMongo(nobody), /ECONNREFUSED|Server selection timed out/);
    } finally {
      await nobody.close(true);
    }
  });

  it('a write with w: majority is acknowledged and reads back', async () => {
    // FerretDB accepts and ignores write concerns (it acknowledges even w: 5 on one node); MongoDB honours it.
    const coll = client.db(dbName).collection<{ _id: string; n: number }>('probe');
    const result = await coll.insertOne({ _id: 'a', n: 1 }, { writeConcern: { w: 'majority' } });
    assert.deepEqual(result, { acknowledged: true, insertedId: 'a' });
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
