/** `MongoRestoreCatalog` passes the `RestoreCatalog` contract on the backup-side server, and checks its format version. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { describeRestoreCatalog, sampleRestoreEntry } from '@tidemark/jobs-contract';
import { classifyMongoError } from '@tidemark/mongo';
import { scratchDatabases } from '@tidemark/testing';
import { MongoRestoreCatalog, RESTORES_COLLECTION } from './mongo-restore-catalog';

const scratch = scratchDatabases('t_restores');
before(() => scratch.open());
after(() => scratch.close());

async function freshCatalog(): Promise<MongoRestoreCatalog> {
  const catalog = new MongoRestoreCatalog(scratch.client, scratch.create(), classifyMongoError);
  await catalog.init();
  return catalog;
}

describeRestoreCatalog('MongoRestoreCatalog (backup-side server)', freshCatalog);

describe('MongoRestoreCatalog format version', () => {
  it('writes v: 2 and refuses to read a document of an unknown version', async () => {
    const catalog = await freshCatalog();
    const entry = sampleRestoreEntry('r-job00001-20261203T100000Z-vvvv', 'job00001', new Date());
    await catalog.insert(entry);
    const coll = scratch.client.db(scratch.last).collection<{ _id: string; v?: number }>(RESTORES_COLLECTION);
    assert.equal((await coll.findOne({ _id: entry.restoreId }))?.v, 2);
    await coll.updateOne({ _id: entry.restoreId }, { $set: { v: 99 } });
    await assert.rejects(catalog.get(entry.restoreId), UnknownFormatVersionError);
    assert.equal(
      await catalog.replace({ ...entry, revision: 2 }, 1),
      false,
      'an unknown version is not overwritten',
    );
  });

  it('reads a format-1 document (before the outbox) as owing nothing, and writes it back as format 2', async () => {
    const catalog = await freshCatalog();
    const entry = sampleRestoreEntry(
      'r-job00001-20261203T100000Z-v1v1',
      'job00001',
      new Date('2026-12-03T10:00:00Z'),
    );
    await catalog.insert(entry);
    const coll = scratch.client.db(scratch.last).collection<{ _id: string; v?: number }>(RESTORES_COLLECTION);
    await coll.updateOne({ _id: entry.restoreId }, { $set: { v: 1 }, $unset: { unpublished: '', owed: '' } });
    assert.deepEqual(await catalog.get(entry.restoreId), entry);
    assert.deepEqual(await catalog.list({ unpublished: true, limit: 10 }), []);
    assert.equal(await catalog.replace({ ...entry, revision: 2 }, 1), true);
    assert.equal((await coll.findOne({ _id: entry.restoreId }))?.v, 2);
  });
});
