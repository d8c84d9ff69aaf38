/** `MongoAlertStore` passes the `AlertStore` contract on the backup-side server, and checks its format version. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { describeAlertStore, sampleAlertEntry } from '@tidemark/jobs-contract';
import { classifyMongoError } from '@tidemark/mongo';
import { scratchDatabases } from '@tidemark/testing';
import { ALERTS_COLLECTION, MongoAlertStore } from './mongo-alert-store';

const scratch = scratchDatabases('t_alerts');
before(() => scratch.open());
after(() => scratch.close());

async function freshStore(): Promise<MongoAlertStore> {
  const store = new MongoAlertStore(scratch.client, scratch.create(), classifyMongoError);
  await store.init();
  return store;
}

describeAlertStore('MongoAlertStore (backup-side server)', freshStore);

describe('MongoAlertStore', () => {
  it('writes v: 1 and refuses to read a document of an unknown version', async () => {
    const store = await freshStore();
    await store.insertOpen(sampleAlertEntry());
    const coll = scratch.client
      .db(scratch.last)
      .collection<{ alertId: string; v?: number }>(ALERTS_COLLECTION);
    assert.equal((await coll.findOne({ alertId: 'al-1' }))?.v, 1);
    await coll.updateOne({ alertId: 'al-1' }, { $set: { v: 99 } });
    await assert.rejects(store.get('al-1'), UnknownFormatVersionError);
  });

  it('two stores racing to open the same generation: exactly one wins', async () => {
    const a = await freshStore();
    const b = new MongoAlertStore(scratch.client, scratch.last, classifyMongoError);
    const wins = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).insertOpen(sampleAlertEntry({ alertId: `al-race-${i}` })),
      ),
    );
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal((await a.list({ limit: 10 })).length, 1);
  });
});
