import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { BlockMissingError } from '@tidemark/snapshots';
import { addressOf, describeSnapshotStore, sampleRecord } from '@tidemark/snapshots-contract';
import { classifyMongoError } from '@tidemark/mongo';
import { uniqueDbName } from '@tidemark/testing';
import {
  MongoBlockstore,
  SNAPSHOT_BLOCKS_COLLECTION,
  SNAPSHOT_BLOCK_PARTS_COLLECTION,
} from './mongo-blockstore';
import { SNAPSHOTS_COLLECTION, SNAPSHOT_LOCKS_COLLECTION } from './mongo-snapshot-metadata';
import { SnapshotRecordInvalidError } from './store-errors';

describeSnapshotStore('blockstore (backup-side MongoDB)', async () => {
  const client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  const database = uniqueDbName('t_snap_bs');
  const store = new MongoBlockstore(client, { database, classifyError: classifyMongoError });
  await store.init();
  return {
    store,
    close: async () => {
      await client.db(database).dropDatabase();
      await client.close();
    },
  };
});

describe('MongoBlockstore: stored documents', () => {
  let client: MongoClient;
  let store: MongoBlockstore;
  const database = uniqueDbName('t_snap_bs_docs');
  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
    store = new MongoBlockstore(client, { database, partBytes: 1024 });
    await store.init();
  });
  after(async () => {
    await client.db(database).dropDatabase();
    await client.close();
  });
  const coll = (name: string) => client.db(database).collection<{ _id: string; [k: string]: unknown }>(name);

  it('writes v: 1 on blocks, parts, records and locks, and splits a large block into parts', async () => {
    const small = Buffer.from('small');
    const large = randomBytes(2_500);
    await store.putBlock('j1', addressOf(small), small);
    await store.putBlock('j1', addressOf(large), large);
    await store.putSnapshot(sampleRecord('j1', 'j1-snap-1', new Date('2026-11-01T00:00:00Z')));
    assert.ok(await store.acquireLock('j1', 'me', 60_000));
    const smallDoc = await coll(SNAPSHOT_BLOCKS_COLLECTION).findOne({ _id: `j1:${addressOf(small)}` });
    assert.equal(smallDoc?.['v'], 1);
    assert.equal(smallDoc?.['size'], 5);
    const largeDoc = await coll(SNAPSHOT_BLOCKS_COLLECTION).findOne({ _id: `j1:${addressOf(large)}` });
    assert.equal(largeDoc?.['v'], 1);
    assert.equal(largeDoc?.['parts'], 3);
    assert.equal(largeDoc?.['data'], undefined);
    const parts = await coll(SNAPSHOT_BLOCK_PARTS_COLLECTION)
      .find({ block: `j1:${addressOf(large)}` })
      .toArray();
    assert.deepEqual(parts.map((p) => [p['n'], p['v']]).sort(), [
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    const record = await coll(SNAPSHOTS_COLLECTION).findOne({ _id: 'j1:j1-snap-1' });
    assert.equal(record?.['v'], 1);
    assert.equal(typeof record?.['manifest'], 'string');
    assert.ok(record?.['takenAt'] instanceof Date);
    const lock = await coll(SNAPSHOT_LOCKS_COLLECTION).findOne({ _id: 'j1#1' });
    assert.equal(lock?.['v'], 1);
    assert.equal(lock?.['owner'], 'me');
    assert.deepEqual(Buffer.from(await store.getBlock('j1', addressOf(large))), large);
  });

  it('ignores the parts of a put that crashed before its block document', async () => {
    const bytes = randomBytes(3_000);
    const a = addressOf(bytes);
    // What a crash after the first part leaves: a part no block document names.
    await coll(SNAPSHOT_BLOCK_PARTS_COLLECTION).insertOne({
      _id: `j2:${a}:deadbeefdeadbeef#0`,
      v: 1,
      jobId: 'j2',
      block: `j2:${a}`,
      w: 'deadbeefdeadbeef',
      n: 0,
      data: bytes.subarray(0, 1024),
    });
    assert.equal(await store.hasBlock('j2', a), false);
    await assert.rejects(store.getBlock('j2', a), BlockMissingError);
    const listed: string[] = [];
    for await (const x of store.listBlocks('j2')) listed.push(x);
    assert.deepEqual(listed, []);
    await store.putBlock('j2', a, bytes);
    assert.deepEqual(Buffer.from(await store.getBlock('j2', a)), bytes);
    await store.deleteBlock('j2', a);
    assert.equal(
      await coll(SNAPSHOT_BLOCK_PARTS_COLLECTION).countDocuments({ block: `j2:${a}` }),
      0,
      'swept',
    );
  });

  it('refuses documents of an unknown version and damaged blocks, naming where they are', async () => {
    const bytes = Buffer.from('versioned');
    const a = addressOf(bytes);
    await store.putBlock('j3', a, bytes);
    await coll(SNAPSHOT_BLOCKS_COLLECTION).updateOne({ _id: `j3:${a}` }, { $set: { v: 2 } });
    const err = await store.getBlock('j3', a).then(
      () => assert.fail('must throw'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UnknownFormatVersionError, String(err));
    assert.equal(err.where, store.blockLocation('j3', a));
    await assert.rejects(store.hasBlock('j3', a), UnknownFormatVersionError);
    await assert.rejects(store.putBlock('j3', a, bytes), UnknownFormatVersionError);
    await assert.rejects(store.deleteBlock('j3', a), UnknownFormatVersionError);
    await coll(SNAPSHOT_BLOCKS_COLLECTION).updateOne({ _id: `j3:${a}` }, { $set: { v: 1, size: 3 } });
    await assert.rejects(store.getBlock('j3', a), SnapshotRecordInvalidError);

    await store.putSnapshot(sampleRecord('j3', 'j3-snap-1', new Date('2026-11-01T00:00:00Z')));
    await coll(SNAPSHOTS_COLLECTION).updateOne({ _id: 'j3:j3-snap-1' }, { $set: { v: 7 } });
    await assert.rejects(store.getSnapshot('j3', 'j3-snap-1'), UnknownFormatVersionError);
    await assert.rejects(store.listSnapshots('j3'), UnknownFormatVersionError);
    await assert.rejects(
      store.putSnapshot(sampleRecord('j3', 'j3-snap-1', new Date('2026-11-01T00:00:00Z'))),
      UnknownFormatVersionError,
      'a record of an unknown version is never replaced',
    );
    await coll(SNAPSHOTS_COLLECTION).updateOne(
      { _id: 'j3:j3-snap-1' },
      { $set: { v: 1, manifest: '{"jobId":' } },
    );
    await assert.rejects(
      store.getSnapshot('j3', 'j3-snap-1'),
      /snapshots _id "j3:j3-snap-1" is invalid: manifest/,
    );
    await coll(SNAPSHOTS_COLLECTION).updateOne({ _id: 'j3:j3-snap-1' }, { $set: { state: 'done' } });
    await assert.rejects(store.getSnapshot('j3', 'j3-snap-1'), SnapshotRecordInvalidError);

    await coll(SNAPSHOT_LOCKS_COLLECTION).insertOne({
      _id: 'j3#1',
      v: 2,
      jobId: 'j3',
      generation: 1,
      owner: 'x',
      expiresAt: new Date(0),
    });
    await assert.rejects(store.acquireLock('j3', 'me', 1_000), UnknownFormatVersionError);
    await store.deleteJob('j3');
    assert.ok(await store.acquireLock('j3', 'me', 1_000), 'deleteJob removes documents of any version');
  });
});
