import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Binary, MongoClient, Timestamp } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { uniqueDbName } from '@tidemark/testing';
import { CHUNK_BYTES, chunkId, MongoOplogStore, SLICE_DOC_FORMAT } from './mongo-oplog-store';
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

describe('MongoOplogStore format versions', () => {
  let client: MongoClient;
  const dbName = uniqueDbName('t_oplogstore_versions');
  before(async () => {
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('writes v: 1 on slices and chunks, and reads a document without v as version 1', async () => {
    const store = new MongoOplogStore(client, dbName);
    await store.init();
    const meta = oplogSlice({ t: 1, i: 0 }, { t: 2, i: 0 }, { sliceId: 'versioned' });
    await store.put(meta, Buffer.alloc(30));
    const slices = client.db(dbName).collection<{ _id: string; v?: unknown }>('slices');
    const chunks = client.db(dbName).collection<{ _id: string; v?: unknown }>('slice_chunks');
    assert.equal((await slices.findOne({ _id: meta.sliceId }))?.v, SLICE_DOC_FORMAT.current);
    assert.equal((await chunks.findOne({ _id: chunkId(meta.sliceId, 0) }))?.v, 1);

    // A slice stored before versions existed: no v anywhere.
    await slices.updateOne({ _id: meta.sliceId }, { $unset: { v: '' } });
    await chunks.updateOne({ _id: chunkId(meta.sliceId, 0) }, { $unset: { v: '' } });
    assert.deepEqual((await store.get(meta.sliceId))?.meta, meta);
  });

  it('refuses a slice document of an unknown version in every read, naming the record and where it is', async () => {
    const store = new MongoOplogStore(client, dbName);
    await store.init();
    // What a newer Tidemark might store: the fields readers select by, and a layout this build does not know.
    const slices = client.db(dbName).collection<{ _id: string; v?: unknown }>('slices');
    await slices.insertOne({
      _id: 'future',
      v: 99,
      jobId: 'jf',
      syncId: 'jf-s1',
      kind: 'oplog',
      prevTs: new Timestamp({ t: 10, i: 0 }),
      firstTs: new Timestamp({ t: 10, i: 1 }),
      lastTs: new Timestamp({ t: 20, i: 0 }),
      docCount: 3,
      payload: { codec: 'zstd', parts: 1 },
    } as never);

    const refused = (err: unknown) => {
      assert.ok(err instanceof UnknownFormatVersionError, String(err));
      assert.equal(err.recordKind, 'oplog-store slice');
      assert.equal(err.found, 99);
      assert.deepEqual(err.known, [1]);
      assert.equal(err.where, `${dbName}.slices _id "future"`);
      assert.equal(err.retriable, false);
      assert.match(err.message, /format version 99 is unknown to this build, which reads version 1/);
      return true;
    };
    await assert.rejects(store.getMeta('future'), refused);
    await assert.rejects(store.get('future'), refused);
    await assert.rejects(store.list('jf', 'jf-s1', 'oplog'), refused);
    await assert.rejects(store.findCovering('jf', 'jf-s1', { t: 15, i: 0 }), refused);
    await assert.rejects(store.latestOplogTs('jf', 'jf-s1'), refused);
    await assert.rejects(store.countEntriesAfter('jf', 'jf-s1', { t: 1, i: 0 }), refused);
    const sameId = oplogSlice(
      { t: 10, i: 0 },
      { t: 20, i: 0 },
      { jobId: 'jf', syncId: 'jf-s1', sliceId: 'future' },
    );
    assert.equal(await store.put(sameId, Buffer.alloc(30)), 'duplicate', 'never overwritten');
    assert.equal((await slices.findOne({ _id: 'future' }))?.v, 99);
  });

  it('refuses a payload chunk of an unknown version', async () => {
    const store = new MongoOplogStore(client, dbName);
    await store.init();
    const meta = oplogSlice({ t: 30, i: 0 }, { t: 40, i: 0 }, { sliceId: 'future-chunk' });
    await store.put(meta, Buffer.alloc(30));
    const chunks = client.db(dbName).collection<{ _id: string; v?: unknown }>('slice_chunks');
    await chunks.deleteOne({ _id: chunkId(meta.sliceId, 0) });
    await chunks.insertOne({
      _id: chunkId(meta.sliceId, 0),
      v: 2,
      s: meta.sliceId,
      n: 0,
      data: new Binary(Buffer.alloc(30)),
    } as never);
    await assert.rejects(store.get(meta.sliceId), (err: unknown) => {
      assert.ok(err instanceof UnknownFormatVersionError, String(err));
      assert.equal(err.recordKind, 'oplog-store payload chunk');
      assert.equal(err.found, 2);
      assert.equal(err.where, `${dbName}.slice_chunks _id "future-chunk#0"`);
      return true;
    });
  });
});
