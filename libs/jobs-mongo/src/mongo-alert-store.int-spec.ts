/** `MongoAlertStore` passes the `AlertStore` contract on the backup-side server, and checks its format version. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { describeAlertStore, sampleAlertEntry } from '@tidemark/jobs-contract';
import { classifyMongoError } from '@tidemark/mongo';
import { uniqueDbName } from '@tidemark/testing';
import { ALERTS_COLLECTION, MongoAlertStore } from './mongo-alert-store';

let client: MongoClient;
const databases: string[] = [];

before(async () => {
  client = await new MongoClient(resolveEndpoints().backup.uri).connect();
});
after(async () => {
  for (const db of databases) await client.db(db).dropDatabase();
  await client.close();
});

async function freshStore(): Promise<MongoAlertStore> {
  const db = uniqueDbName('t_alerts');
  databases.push(db);
  const store = new MongoAlertStore(client, db, classifyMongoError);
  await store.init();
  return store;
}

describeAlertStore('MongoAlertStore (backup-side server)', freshStore);

describe('MongoAlertStore', () => {
  it('writes v: 1 and refuses to read a document of an unknown version', async () => {
    const store = await freshStore();
    await store.insertOpen(sampleAlertEntry());
    const coll = client.db(databases.at(-1)!).collection<{ alertId: string; v?: number }>(ALERTS_COLLECTION);
    assert.equal((await coll.findOne({ alertId: 'al-1' }))?.v, 1);
    await coll.updateOne({ alertId: 'al-1' }, { $set: { v: 99 } });
    await assert.rejects(store.get('al-1'), UnknownFormatVersionError);
  });

  it('two stores racing to open the same generation: exactly one wins', async () => {
    const a = await freshStore();
    const b = new MongoAlertStore(client, databases.at(-1)!, classifyMongoError);
    const wins = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).insertOpen(sampleAlertEntry({ alertId: `al-race-${i}` })),
      ),
    );
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await a.list({ limit: 10 })).length, 1);
  });
});
