import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Binary, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { uniqueDbName } from '@tidemark/testing';
import { CHUNK_BYTES, chunkId, MongoOplogStore } from './mongo-oplog-store';
import { describeOplogStore, oplogSlice } from './oplog-store.contract';

describeOplogStore('MongoDB (backup side)', async () => {
  const client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  const dbName = uniqueDbName('t_oplogstore');
  const store = new MongoOplogStore(client, dbName);
  await store.init();
  return {
    store,
    close: async () => {
      await client.db(dbName).dropDatabase();
      await client.close();
    },
  };
});

describe('MongoOplogStore payload chunks', () => {
  let client: MongoClient;
  const dbName = uniqueDbName('t_oplogstore_chunks');
  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('replaces the chunks of an attempt that crashed before its metadata, and deletes chunks with their sync', async () => {
    const store = new MongoOplogStore(client, dbName);
    await store.init();
    const chunks = client.db(dbName).collection('slice_chunks');
    const payload = randomBytes(CHUNK_BYTES + 100);
    const meta = oplogSlice(
      { t: 5, i: 0 },
      { t: 6, i: 0 },
      { rawBytes: payload.length, compressedBytes: payload.length },
    );
    // What a crash after the first chunk of an earlier attempt leaves: a chunk with other bytes, no metadata.
    await chunks.insertOne({
      _id: chunkId(meta.sliceId, 0),
      s: meta.sliceId,
      n: 0,
      data: new Binary(randomBytes(10)),
    } as never);
    assert.equal(await store.get(meta.sliceId), undefined, 'invisible without its metadata');

    assert.equal(await store.put(meta, payload), 'stored');
    const got = await store.get(meta.sliceId);
    assert.ok(got?.payload.equals(payload), 'the retry wrote the whole payload');
    assert.deepEqual(
      (await chunks.find({ s: meta.sliceId }).sort({ n: 1 }).toArray()).map((c) => c['_id']),
      [chunkId(meta.sliceId, 0), chunkId(meta.sliceId, 1)],
    );

    await store.deleteSync(meta.jobId, meta.syncId);
    assert.equal(await chunks.countDocuments({ s: meta.sliceId }), 0);
    assert.equal(await store.get(meta.sliceId), undefined);
  });
});
