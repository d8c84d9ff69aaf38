import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createS3Client } from './create-s3-client';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const base = {
  region: 'eu-west-1',
  bucket: 'b',
  accessKeyId: undefined,
  secretAccessKey: undefined,
  forcePathStyle: false,
};

describe('createS3Client', () => {
  it('uses path-style addressing whenever a custom endpoint is set', async () => {
    const client = createS3Client({ ...base, endpoint: 'http://127.0.0.1:19000' });
    assert.equal(client.config.forcePathStyle, true);
    const ep = await client.config.endpoint?.();
    assert.equal(ep?.hostname, '127.0.0.1');
    assert.equal(await client.config.region(), 'eu-west-1');
    client.destroy();
  });

  it("keeps virtual-host addressing against AWS's own endpoint unless asked", () => {
    const aws = createS3Client({ ...base, endpoint: undefined });
    assert.equal(aws.config.forcePathStyle, false);
    aws.destroy();
    const forced = createS3Client({ ...base, endpoint: undefined, forcePathStyle: true });
    assert.equal(forced.config.forcePathStyle, true);
    forced.destroy();
  });

  it('uses static credentials only when both key id and secret are given', async () => {
    const client = createS3Client({
      ...base,
      endpoint: undefined,
      accessKeyId: 'id',
      secretAccessKey: 'secret',
    });
    const creds = await client.config.credentials();
    assert.equal(creds.accessKeyId, 'id');
    assert.equal(creds.secretAccessKey, 'secret');
    client.destroy();
  });
});
