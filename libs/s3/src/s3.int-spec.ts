import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { resolveEndpoints } from '@tidemark/config';
import { ensureBucket, pingS3 } from './bucket';
import { classifyS3Error } from './classify-s3-error';
import { createS3Client } from './create-s3-client';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

describe('S3 adapter against the S3-compatible server', () => {
  const endpoints = resolveEndpoints();
  const bucket = `tidemark-s3-it-${randomBytes(4).toString('hex')}`;
  let client: S3Client;

  before(() => {
    // Default client settings: flexible checksums stay on.
    client = createS3Client(endpoints.s3);
  });

  after(async () => {
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    const gone = await pingS3(client, bucket).then(
      () => assert.fail('bucket should be gone'),
      (e: unknown) => e,
    );
    assert.equal(classifyS3Error(gone).retriable, false);
    client.destroy();
  });

  it('reports a missing bucket as a fatal error', async () => {
    const err = await pingS3(client, bucket).then(
      () => assert.fail('fresh bucket should not exist yet'),
      (e: unknown) => e,
    );
    assert.equal(classifyS3Error(err).retriable, false);
  });

  it('creates the bucket once and is idempotent after that', async () => {
    assert.equal(await ensureBucket(client, bucket), true);
    assert.equal(await ensureBucket(client, bucket), false);
    await pingS3(client, bucket);
  });

  it('puts, lists, gets and deletes an object', async () => {
    const key = 'blocks/ab/abcdef';
    const body = Buffer.from('a block of a snapshot');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'blocks/' }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [[key, body.length]],
    );

    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(got.Body);
    assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), body);

    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const remaining = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(remaining.KeyCount, 0);
  });

  it('classifies a missing object as fatal', async () => {
    const err = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'no/such/key' })).then(
      () => assert.fail('get should fail'),
      (e: unknown) => e,
    );
    const verdict = classifyS3Error(err);
    assert.equal(verdict.retriable, false);
    assert.match(verdict.reason, /object does not exist/);
  });

  it('classifies an unreachable endpoint as retriable', async () => {
    const dead = createS3Client({ ...endpoints.s3, endpoint: 'http://127.0.0.1:9' }, { maxAttempts: 1 });
    const err = await pingS3(dead, bucket).then(
      () => assert.fail('ping should fail'),
      (e: unknown) => e,
    );
    dead.destroy();
    assert.equal(classifyS3Error(err).retriable, true, classifyS3Error(err).reason);
  });
});
