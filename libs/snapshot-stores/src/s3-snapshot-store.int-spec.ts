import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyMongoError } from '@tidemark/mongo';
import { classifyS3Error, createS3Client, ensureBucket } from '@tidemark/s3';
import { BlockMissingError } from '@tidemark/snapshots';
import { addressOf, describeSnapshotStore } from '@tidemark/snapshots-contract';
import { uniqueDbName, uniqueName } from '@tidemark/testing';
import {
  PACK_MAX_BLOCK_BYTES,
  S3SnapshotStore,
  SNAPSHOT_BLOCK_OBJECTS_COLLECTION,
} from './s3-snapshot-store';

const endpoints = resolveEndpoints();
const bucket = uniqueName('tidemark-snap-s3').toLowerCase();
let bucketReady: Promise<S3Client> | undefined;

/** One bucket for the file (created on first use); each store gets a prefix and a database of its own. */
function s3(): Promise<S3Client> {
  bucketReady ??= (async () => {
    const client = createS3Client(endpoints.s3, { maxAttempts: 1 });
    await ensureBucket(client, bucket);
    return client;
  })();
  return bucketReady;
}

async function emptyPrefix(client: S3Client, prefix: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (keys.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
}

async function makeStore(overrides: { multipartThresholdBytes?: number } = {}) {
  const client = await s3();
  const mongo = await new MongoClient(endpoints.backup.uri).connect();
  const database = uniqueDbName('t_snap_s3');
  const prefix = `it/${uniqueName('p')}`;
  const store = new S3SnapshotStore({
    s3: client,
    bucket,
    prefix,
    classifyS3Error,
    mongo,
    database,
    classifyMongoError,
    // 20 MiB blocks go up in 5 MiB parts, so the contract covers multipart uploads too.
    multipartThresholdBytes: overrides.multipartThresholdBytes ?? 8 * 1024 * 1024,
    partBytes: 5 * 1024 * 1024,
  });
  await store.init();
  return {
    store,
    client,
    mongo,
    database,
    prefix,
    close: async () => {
      await emptyPrefix(client, `${prefix}/`);
      await mongo.db(database).dropDatabase();
      await mongo.close();
    },
  };
}

async function collectAll(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const a of it) out.push(a);
  return out;
}

after(async () => {
  if (!bucketReady) return;
  const client = await bucketReady;
  await emptyPrefix(client, '');
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
});

describeSnapshotStore('s3 (S3-compatible server + backup-side MongoDB)', () => makeStore());

describe('S3SnapshotStore: layout', () => {
  let env: Awaited<ReturnType<typeof makeStore>>;
  before(async () => {
    env = await makeStore();
  });
  after(() => env.close());

  it('keeps a block put alone under <prefix>/<jobId>/blocks/<aa>/<address>, indexed with v: 1', async () => {
    const bytes = randomBytes(1000);
    const a = addressOf(bytes);
    await env.store.putBlock('j1', a, bytes);
    const key = `${env.prefix}/j1/blocks/${a.slice(0, 2)}/${a}`;
    assert.equal(env.store.blockLocation('j1', a), `s3://${bucket}/${key}`);
    const got = await env.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.deepEqual(Buffer.from((await got.Body?.transformToByteArray()) ?? []), bytes);
    const entry = await env.mongo
      .db(env.database)
      .collection<{ _id: string }>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION)
      .findOne({ _id: `j1:${a}` });
    assert.equal(entry?.['v' as never], 1);
    assert.equal(entry?.['key' as never], key);
    assert.equal(entry?.['size' as never], 1000);
  });

  it('packs a group of small blocks into one object with a trailer; the pack goes with its last block', async () => {
    const small = Array.from({ length: 5 }, (_, k) => randomBytes(1000 + k));
    const large = randomBytes(PACK_MAX_BLOCK_BYTES + 1);
    await env.store.putBlocks(
      'j4',
      [...small, large].map((bytes) => ({ address: addressOf(bytes), bytes })),
    );
    const listed = await env.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${env.prefix}/j4/` }),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key as string).sort();
    assert.equal(keys.length, 2, keys.join(', '));
    const packKey = keys.find((k) => k.includes('/packs/'))!;
    assert.match(packKey, new RegExp(`^${env.prefix}/j4/packs/[0-9a-f]{2}/[0-9a-f]{64}$`));
    assert.ok(
      keys.includes(env.store.key('j4', addressOf(large))),
      'the large block is an object of its own',
    );
    // The trailer lists the blocks, so the index can be rebuilt from the bucket.
    const got = await env.client.send(new GetObjectCommand({ Bucket: bucket, Key: packKey }));
    const pack = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
    assert.equal(pack.subarray(-4).toString('latin1'), 'TMPK');
    const trailerLength = pack.readUInt32LE(pack.length - 8);
    const trailer = JSON.parse(
      pack.subarray(pack.length - 8 - trailerLength, pack.length - 8).toString('utf8'),
    );
    assert.deepEqual(
      trailer.blocks.map((b: { address: string; size: number }) => [b.address, b.size]),
      small.map((b) => [addressOf(b), b.length]),
    );
    const index = env.mongo.db(env.database).collection<{ _id: string }>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION);
    for (const [k, bytes] of small.entries()) {
      const a = addressOf(bytes);
      assert.deepEqual(Buffer.from(await env.store.getBlock('j4', a)), bytes);
      const entry = await index.findOne({ _id: `j4:${a}` });
      assert.equal(entry?.['v' as never], 2);
      assert.equal(entry?.['key' as never], packKey);
      const offset = trailer.blocks[k].offset as number;
      assert.equal(entry?.['offset' as never], offset);
      assert.equal(
        env.store.blockLocation('j4', a),
        `s3://${bucket}/${packKey} (bytes ${offset}-${offset + bytes.length - 1})`,
      );
    }
    assert.deepEqual(Buffer.from(await env.store.getBlock('j4', addressOf(large))), large);
    for (const bytes of small.slice(0, 4)) await env.store.deleteBlock('j4', addressOf(bytes));
    const packThere = async () =>
      ((await env.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: packKey }))).KeyCount ?? 0) >
      0;
    assert.equal(await packThere(), true, 'the pack stays while a block in it is indexed');
    assert.deepEqual(Buffer.from(await env.store.getBlock('j4', addressOf(small[4]!))), small[4]);
    await env.store.deleteBlock('j4', addressOf(small[4]!));
    assert.equal(await packThere(), false, 'the pack went with its last block');
    assert.deepEqual((await collectAll(env.store.listBlocks('j4'))).length, 1);
  });

  it('puts a group again without lookups: blocks indexed before stay as they are, a pack of only those goes', async () => {
    const objects = async () =>
      (
        (await env.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${env.prefix}/j6/` })))
          .Contents ?? []
      )
        .map((o) => o.Key as string)
        .sort();
    const [a, b, c] = [randomBytes(900), randomBytes(901), randomBytes(902)];
    const block = (bytes: Buffer) => ({ address: addressOf(bytes), bytes });
    await env.store.putBlocks('j6', [block(a), block(b)]);
    const first = await objects();
    assert.equal(first.length, 1, 'one pack');
    const entryOf = (bytes: Buffer) =>
      env.mongo
        .db(env.database)
        .collection<{ _id: string }>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION)
        .findOne({ _id: `j6:${addressOf(bytes)}` });
    const before = await entryOf(a);
    // The same two again, in the other order: a new pack whose blocks are all indexed already, removed.
    await env.store.putBlocks('j6', [block(b), block(a)]);
    assert.deepEqual(await objects(), first, 'no pack left that no entry names');
    assert.deepEqual(await entryOf(a), before, 'the entry of a block put before is unchanged');
    // With a new block: its pack stays (the new block's entry names it), the old entries still name the first.
    await env.store.putBlocks('j6', [block(a), block(c)]);
    assert.equal((await objects()).length, 2);
    assert.deepEqual(await entryOf(a), before);
    for (const bytes of [a, b, c])
      assert.deepEqual(Buffer.from(await env.store.getBlock('j6', addressOf(bytes))), bytes);
  });

  it('refuses an index entry whose pack key is outside the job', async () => {
    const bytes = [randomBytes(100), randomBytes(100)];
    await env.store.putBlocks(
      'j5',
      bytes.map((b) => ({ address: addressOf(b), bytes: b })),
    );
    const a = addressOf(bytes[0]!);
    const index = env.mongo.db(env.database).collection<{ _id: string }>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION);
    await index.updateOne(
      { _id: `j5:${a}` },
      { $set: { key: `${env.prefix}/j4/packs/aa/${'a'.repeat(64)}` } },
    );
    await assert.rejects(env.store.getBlock('j5', a), /a pack key outside/);
  });

  it('adopts an object a crashed put left without its index entry, keeping its bytes', async () => {
    const first = Buffer.from('bytes of the put that crashed before indexing');
    const a = addressOf(first);
    await env.client.send(new PutObjectCommand({ Bucket: bucket, Key: env.store.key('j2', a), Body: first }));
    assert.equal(await env.store.hasBlock('j2', a), false, 'an object without its entry is not a block');
    await assert.rejects(env.store.getBlock('j2', a), BlockMissingError);
    await env.store.putBlock('j2', a, Buffer.from('other bytes'));
    assert.deepEqual(Buffer.from(await env.store.getBlock('j2', a)), first, 'If-None-Match kept the object');

    const big = randomBytes(9 * 1024 * 1024); // above the threshold: a multipart upload, completed conditionally
    const b = addressOf(big);
    await env.client.send(new PutObjectCommand({ Bucket: bucket, Key: env.store.key('j2', b), Body: big }));
    await env.store.putBlock('j2', b, randomBytes(10 * 1024 * 1024));
    assert.ok(
      Buffer.from(await env.store.getBlock('j2', b)).equals(big),
      'the multipart put kept the object',
    );
    const uploads = await env.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: env.prefix }),
    );
    assert.equal((uploads.Uploads ?? []).length, 0, 'the refused upload was aborted');
  });

  /** `count` small blocks put as one pack, and one block too large for a pack, put alone. */
  async function packAndLone(jobId: string, count: number) {
    const small = Array.from({ length: count }, (_, k) => randomBytes(2000 + k));
    await env.store.putBlocks(
      jobId,
      small.map((bytes) => ({ address: addressOf(bytes), bytes })),
    );
    const lone = randomBytes(PACK_MAX_BLOCK_BYTES + 1);
    await env.store.putBlock(jobId, addressOf(lone), lone);
    return { small, lone };
  }

  it('sweepLeftovers removes old objects no entry names and old unfinished uploads, and nothing else', async () => {
    const { small, lone } = await packAndLone('j5', 5);
    const kept = [...small, lone];
    // What killed writers left: a block and a pack without their entries, an upload never completed.
    const orphanBlock = Buffer.from('a block whose writer died before its index entry');
    const orphanPack = randomBytes(3000);
    const packId = addressOf(orphanPack);
    const orphans = [
      { Key: env.store.key('j5', addressOf(orphanBlock)), Body: orphanBlock },
      { Key: `${env.prefix}/j5/packs/${packId.slice(0, 2)}/${packId}`, Body: orphanPack },
    ];
    for (const o of orphans) await env.client.send(new PutObjectCommand({ Bucket: bucket, ...o }));
    await env.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: env.store.key('j5', 'ef'.repeat(32)) }),
    );
    // Not the sweep's: a key that is no block or pack of the job, and another job's orphan.
    const foreign = `${env.prefix}/j5/README`;
    const otherJob = env.store.key('j6', addressOf(orphanBlock));
    for (const Key of [foreign, otherJob])
      await env.client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.from('x') }));
    const keys = async () =>
      (
        (await env.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${env.prefix}/` })))
          .Contents ?? []
      )
        .map((o) => o.Key as string)
        .sort();
    const uploads = async () =>
      (
        (
          await env.client.send(
            new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${env.prefix}/j5/` }),
          )
        ).Uploads ?? []
      ).length;
    const all = await keys();

    const held = async () => true;
    // Younger than the cut-off (a writer that may still be alive): nothing goes. moto's server reports every
    // upload as started on 2010-11-10, so against it the upload counts as old and goes; AWS S3 gives the real time.
    const cutoff = new Date(Date.now() - 3_600_000);
    const initiated = (
      await env.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${env.prefix}/j5/` }))
    ).Uploads?.[0]?.Initiated;
    const uploadLooksOld = initiated !== undefined && initiated < cutoff ? 1 : 0;
    const young = await env.store.sweepLeftovers('j5', { olderThan: cutoff, stillHeld: held });
    assert.deepEqual(young, { removed: uploadLooksOld, bytes: 0 });
    if (uploadLooksOld === 1) {
      await env.client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: env.store.key('j5', 'ef'.repeat(32)) }),
      );
    }
    // The lock lost before the first deletion: nothing goes.
    const lost = await env.store.sweepLeftovers('j5', {
      olderThan: new Date(Date.now() + 60_000),
      stillHeld: async () => false,
    });
    assert.deepEqual(lost, { removed: 0, bytes: 0, stopped: true });
    assert.deepEqual(await keys(), all);
    assert.equal(await uploads(), 1);

    const swept = await env.store.sweepLeftovers('j5', {
      olderThan: new Date(Date.now() + 60_000),
      stillHeld: held,
    });
    assert.deepEqual(swept, { removed: 3, bytes: orphanBlock.length + orphanPack.length });
    assert.deepEqual(
      await keys(),
      all.filter((k) => !orphans.some((o) => o.Key === k)),
    );
    assert.equal(await uploads(), 0);
    for (const bytes of kept)
      assert.deepEqual(Buffer.from(await env.store.getBlock('j5', addressOf(bytes))), bytes);
  });

  it('getBlocks reads the blocks of a pack with one ranged GET, in the order asked, each failure in its place', async () => {
    const { small, lone } = await packAndLone('j7', 6);
    // The same store's objects, through a client that counts GETs.
    let gets = 0;
    const counting = {
      send: (command: unknown) => {
        if (command instanceof GetObjectCommand) gets++;
        return (env.client.send as (c: unknown) => Promise<unknown>)(command);
      },
    } as unknown as S3Client;
    const store = new S3SnapshotStore({
      s3: counting,
      bucket,
      prefix: env.prefix,
      classifyS3Error,
      mongo: env.mongo,
      database: env.database,
      classifyMongoError,
    });
    const never = addressOf(Buffer.from('never stored'));
    const asked = [small[4]!, lone, small[0]!, small[5]!, small[2]!].map(addressOf);
    const reads = await store.getBlocks('j7', [...asked.slice(0, 2), never, ...asked.slice(2)]);
    assert.equal(gets, 2, 'one ranged GET for the pack blocks 0, 2, 4 and 5, one for the lone block');
    const expected = [small[4]!, lone, undefined, small[0]!, small[5]!, small[2]!];
    for (const [k, read] of reads.entries()) {
      const want = expected[k];
      if (want === undefined) {
        assert.ok(
          'error' in read && read.error instanceof BlockMissingError,
          `result ${k} is the missing block`,
        );
      } else {
        assert.ok('bytes' in read, `result ${k} has bytes`);
        assert.deepEqual(Buffer.from(read.bytes), want);
      }
    }
    // The pack gone (damage): each of its blocks is missing, named in the pack; the lone block still reads.
    const packKey = (
      await env.mongo
        .db(env.database)
        .collection<{ _id: string; key: string }>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION)
        .findOne({ _id: `j7:${addressOf(small[0]!)}` })
    )?.key as string;
    await env.client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: packKey }] } }),
    );
    const after = await store.getBlocks('j7', [addressOf(small[1]!), addressOf(lone)]);
    assert.ok('error' in after[0]! && after[0].error instanceof BlockMissingError);
    assert.match(
      String((after[0] as { error: Error }).error.message),
      new RegExp(packKey.replace(/[/.]/g, '\\$&')),
    );
    assert.ok('bytes' in after[1]! && Buffer.from(after[1].bytes).equals(lone));
  });

  it('deleteJob removes objects no entry names and unfinished multipart uploads', async () => {
    const stray = `${env.prefix}/j3/blocks/ab/${'ab'.repeat(32)}`;
    await env.client.send(new PutObjectCommand({ Bucket: bucket, Key: stray, Body: Buffer.from('stray') }));
    await env.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${stray}x` }));
    await env.store.deleteJob('j3');
    const left = await env.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${env.prefix}/j3/` }),
    );
    assert.equal(left.KeyCount ?? 0, 0);
    const uploads = await env.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${env.prefix}/j3/` }),
    );
    assert.equal((uploads.Uploads ?? []).length, 0);
  });
});
