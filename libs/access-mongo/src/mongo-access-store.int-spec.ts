/** `MongoAccessStore` passes the `AccessStore` contract on the backup-side server, and checks its format version. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { describeAccessStore, sampleKeyRecord } from '@tidemark/access-contract';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { classifyMongoError } from '@tidemark/mongo';
import { uniqueDbName } from '@tidemark/testing';
import { API_KEYS_COLLECTION, MongoAccessStore } from './mongo-access-store';

let client: MongoClient;
const databases: string[] = [];

before(async () => {
  client = await new MongoClient(resolveEndpoints().backup.uri).connect();
});
after(async () => {
  for (const db of databases) await client.db(db).dropDatabase();
  await client.close();
});

async function freshStore(): Promise<MongoAccessStore> {
  const db = uniqueDbName('t_access');
  databases.push(db);
  const store = new MongoAccessStore(client, db, classifyMongoError);
  await store.init();
  return store;
}

describeAccessStore('MongoAccessStore (backup-side server)', freshStore);

describe('MongoAccessStore documents', () => {
  it('hold the salt and hash, never a key; write v: 1 and refuse an unknown version', async () => {
    const store = await freshStore();
    const key = sampleKeyRecord('0123456789ab', new Date(), { 'shop.eu': 'owner' });
    await store.insertKey(key);
    const coll = client.db(databases.at(-1)!).collection<Record<string, unknown>>(API_KEYS_COLLECTION);
    const doc = await coll.findOne({ _id: key.id as never });
    assert.equal(doc?.['v'], 1);
    assert.deepEqual(doc?.['grants'], [{ project: 'shop.eu', role: 'owner' }]);
    assert.deepEqual(Object.keys(doc!).sort(), [
      '_id',
      'createdAt',
      'createdBy',
      'grants',
      'hash',
      'lastUsedAt',
      'revokedAt',
      'salt',
      'v',
    ]);
    await coll.updateOne({ _id: key.id as never }, { $set: { v: 99 } });
    await assert.rejects(store.getKey(key.id), UnknownFormatVersionError);
  });
});
