/** `MongoAccessStore` passes the `AccessStore` contract on the backup-side server, and checks its format version. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeAccessStore, sampleKeyRecord } from '@tidemark/access-contract';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { classifyMongoError } from '@tidemark/mongo';
import { scratchDatabases } from '@tidemark/testing';
import { API_KEYS_COLLECTION, MongoAccessStore } from './mongo-access-store';

const scratch = scratchDatabases('t_access');
before(() => scratch.open());
after(() => scratch.close());

async function freshStore(): Promise<MongoAccessStore> {
  const store = new MongoAccessStore(scratch.client, scratch.create(), classifyMongoError);
  await store.init();
  return store;
}

describeAccessStore('MongoAccessStore (backup-side server)', freshStore);

describe('MongoAccessStore documents', () => {
  it('hold the salt and hash, never a key; write v: 1 and refuse an unknown version', async () => {
    const store = await freshStore();
    const key = sampleKeyRecord('0123456789ab', new Date(), { 'shop.eu': 'owner' });
    await store.insertKey(key);
    const coll = scratch.client.db(scratch.last).collection<Record<string, unknown>>(API_KEYS_COLLECTION);
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
