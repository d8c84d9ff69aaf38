/**
 * The `s3` store behind a proxy that answers 500 / 503 SlowDown / 503 ServiceUnavailable / 403 instead of the
 * S3-compatible server, and adds latency: transient faults are retried away with the bytes intact; a persistent
 * fault ends in a retriable `SnapshotStoreUnavailableError` and leaves no block; a fatal one is not retried.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyMongoError } from '@tidemark/mongo';
import { classifyS3Error, createS3Client, ensureBucket } from '@tidemark/s3';
import { BlockMissingError } from '@tidemark/snapshots';
import { addressOf } from '@tidemark/snapshots-contract';
import { uniqueDbName, uniqueName } from '@tidemark/testing';
import { S3_REQUEST_RETRY } from '@tidemark/util';
import { S3SnapshotStore } from './s3-snapshot-store';
import { SnapshotStoreUnavailableError } from './store-errors';
import { S3FaultProxy } from './testing/s3-fault-proxy';

const MAX_ATTEMPTS = 6;

describe('S3SnapshotStore behind a faulty S3 endpoint', () => {
  const endpoints = resolveEndpoints();
  const bucket = uniqueName('tidemark-snap-faults').toLowerCase();
  const database = uniqueDbName('t_snap_s3_faults');
  let proxy: S3FaultProxy;
  let direct: S3Client;
  let viaProxy: S3Client;
  let mongo: MongoClient;
  let store: S3SnapshotStore;

  before(async () => {
    direct = createS3Client(endpoints.s3, { maxAttempts: 1 });
    await ensureBucket(direct, bucket);
    proxy = await S3FaultProxy.start(endpoints.s3.endpoint ?? assert.fail('the spec needs S3_ENDPOINT'));
    viaProxy = createS3Client({ ...endpoints.s3, endpoint: proxy.url }, { maxAttempts: 1 });
    mongo = await new MongoClient(endpoints.backup.uri).connect();
    store = new S3SnapshotStore({
      s3: viaProxy,
      bucket,
      prefix: 'faults',
      classifyS3Error,
      mongo,
      database,
      classifyMongoError,
      backoff: S3_REQUEST_RETRY.with({ initialMs: 20, maxMs: 200 }),
      maxAttempts: MAX_ATTEMPTS,
      maxElapsedMs: 30_000,
      multipartThresholdBytes: 6 * 1024 * 1024,
      partBytes: 5 * 1024 * 1024,
    });
    await store.init();
  });

  after(async () => {
    proxy.plan({});
    for (;;) {
      const page = await direct.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (keys.length === 0) break;
      await direct.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    await direct.send(new DeleteBucketCommand({ Bucket: bucket }));
    await mongo.db(database).dropDatabase();
    await mongo.close();
    viaProxy.destroy();
    direct.destroy();
    await proxy.close();
  });

  const block = (size: number) => {
    const bytes = randomBytes(size);
    return { bytes, address: addressOf(bytes) };
  };

  it('puts and gets through SlowDown and 500 answers, with latency, bytes intact', async () => {
    const { bytes, address } = block(256 * 1024);
    proxy.plan({ fault: 'SlowDown', failNext: 3, latencyMs: 40 });
    await store.putBlock('j1', address, bytes);
    assert.equal(proxy.counts.faulted, 3);
    assert.ok(proxy.counts.forwarded >= 1);
    proxy.plan({ fault: 'InternalError', failNext: 2, latencyMs: 40 });
    const back = await store.getBlock('j1', address);
    assert.equal(proxy.counts.faulted, 2);
    assert.equal(addressOf(back), address, 'the bytes read back hash to the address');
    assert.ok(Buffer.from(back).equals(bytes));
  });

  it('completes a multipart upload whose parts meet 503s', { timeout: 120_000 }, async () => {
    const { bytes, address } = block(12 * 1024 * 1024); // three parts
    // Every other request of the upload fails once: create, parts and complete are each retried on their own.
    let n = 0;
    proxy.plan({ fault: 'ServiceUnavailable', persistent: true, match: () => n++ % 2 === 0 });
    await store.putBlock('j1', address, bytes);
    assert.ok(proxy.counts.faulted >= 5, `faulted ${proxy.counts.faulted}`);
    proxy.plan({});
    const back = await store.getBlock('j1', address);
    assert.equal(addressOf(back), address);
  });

  it('waits out a window of SlowDown answers', async () => {
    const { bytes, address } = block(64 * 1024);
    const store2 = withOptions({ maxAttempts: 40, maxElapsedMs: 20_000 });
    proxy.plan({ fault: 'SlowDown', failUntil: Date.now() + 700 });
    const started = Date.now();
    await store2.putBlock('j2', address, bytes);
    assert.ok(Date.now() - started >= 600, 'it succeeded only after the window');
    assert.ok(proxy.counts.faulted >= 2);
    proxy.plan({});
    assert.ok(Buffer.from(await store2.getBlock('j2', address)).equals(bytes));
  });

  it('ends a persistent fault with a retriable error and leaves no block', async () => {
    const { bytes, address } = block(100_000);
    proxy.plan({ fault: 'SlowDown', persistent: true, latencyMs: 5 });
    const err = await store.putBlock('j3', address, bytes).then(
      () => assert.fail('putBlock must fail while every request is refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SnapshotStoreUnavailableError, String(err));
    assert.equal(err.retriable, true);
    assert.equal(err.operation, 'putBlock');
    assert.equal(err.location, store.blockLocation('j3', address));
    assert.match(err.message, new RegExp(`after ${MAX_ATTEMPTS} attempts: throttled`));
    assert.equal(proxy.counts.faulted, MAX_ATTEMPTS);
    proxy.plan({});
    assert.equal(await store.hasBlock('j3', address), false, 'no index entry');
    await assert.rejects(store.getBlock('j3', address), BlockMissingError);
    const listed = await direct.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'faults/j3/' }));
    assert.equal(listed.KeyCount ?? 0, 0, 'no object');

    await store.putBlock('j3', address, bytes);
    proxy.plan({ fault: 'InternalError', persistent: true });
    const getErr = await store.getBlock('j3', address).then(
      () => assert.fail('getBlock must fail while every request is refused'),
      (e: unknown) => e,
    );
    assert.ok(getErr instanceof SnapshotStoreUnavailableError, String(getErr));
    assert.equal(getErr.retriable, true);
    assert.match(getErr.message, /server error/);
    proxy.plan({});
    assert.ok(Buffer.from(await store.getBlock('j3', address)).equals(bytes), 'intact once the fault ends');
  });

  it('does not retry a fatal answer', async () => {
    const { bytes, address } = block(1000);
    proxy.plan({ fault: 'AccessDenied', persistent: true });
    const err = await store.putBlock('j4', address, bytes).then(
      () => assert.fail('putBlock must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SnapshotStoreUnavailableError, String(err));
    assert.equal(err.retriable, false);
    assert.match(err.message, /access denied/);
    assert.equal(proxy.counts.requests, 1, 'one request, no retry');
    proxy.plan({});
    assert.equal(await store.hasBlock('j4', address), false);
  });

  function withOptions(o: { maxAttempts: number; maxElapsedMs: number }): S3SnapshotStore {
    return new S3SnapshotStore({
      s3: viaProxy,
      bucket,
      prefix: 'faults',
      classifyS3Error,
      mongo,
      database,
      classifyMongoError,
      backoff: S3_REQUEST_RETRY.with({ initialMs: 20, maxMs: 200 }),
      ...o,
    });
  }
});
