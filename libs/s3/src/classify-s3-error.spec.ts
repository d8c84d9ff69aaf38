import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { classifyS3Error } from './classify-s3-error';
import { S3_ERROR_RULES } from './s3-error-rules';

function serviceError(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

describe('classifyS3Error', () => {
  it('calls throttling retriable, whatever the status', () => {
    assert.equal(classifyS3Error(serviceError('SlowDown', 503)).retriable, true);
    const t = classifyS3Error(serviceError('ThrottlingException', 400));
    assert.equal(t.retriable, true);
    assert.match(t.reason, /throttled/);
    assert.equal(classifyS3Error(serviceError('SomethingNew', 429)).retriable, true);
  });

  it('calls every 5xx retriable', () => {
    assert.equal(classifyS3Error(serviceError('InternalError', 500)).retriable, true);
    const gw = classifyS3Error(serviceError('UnknownError', 502));
    assert.equal(gw.retriable, true);
    assert.match(gw.reason, /HTTP 5xx/);
  });

  it('calls other 4xx fatal', () => {
    const denied = classifyS3Error(serviceError('AccessDenied', 403));
    assert.equal(denied.retriable, false);
    assert.match(denied.reason, /access denied/);
    assert.equal(classifyS3Error(serviceError('NotFound', 404)).retriable, false);
    assert.equal(classifyS3Error(serviceError('PreconditionFailed', 412)).retriable, false);
    const missing = new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } });
    assert.equal(classifyS3Error(missing).retriable, false);
  });

  it('calls connection failures retriable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    assert.equal(classifyS3Error(refused).retriable, true);
    const wrapped = new Error('upload failed', { cause: refused });
    assert.equal(classifyS3Error(wrapped).retriable, true);
  });

  it('calls unknown and programming errors fatal', () => {
    const u = classifyS3Error(new Error('what'));
    assert.equal(u.retriable, false);
    assert.match(u.reason, /^unknown error/);
    assert.equal(classifyS3Error(new TypeError('x is undefined')).retriable, false);
    assert.equal(classifyS3Error(null).retriable, false);
  });

  it('has one row per name and status range', () => {
    const keys = S3_ERROR_RULES.map((r) => (r.kind === 'name' ? r.name : `${r.min}-${r.max}`));
    assert.equal(new Set(keys).size, keys.length);
  });
});
