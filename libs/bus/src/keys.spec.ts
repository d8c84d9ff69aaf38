import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TopicConfigError } from './bus-errors';
import { jobKey, jobNamespaceKey, parseJobNamespaceKey } from './keys';

describe('message keys', () => {
  it('job-namespace keys round-trip, including collections with dots and slashes', () => {
    for (const [jobId, namespace] of [
      ['job-1', 'shop.orders'],
      ['0f8e5b4a-77c1-4d5e-9e3a-2b8f1c6d7e90', 'db.coll.with.dots'],
      ['j', 'db.a/b'],
    ] as const) {
      assert.deepEqual(parseJobNamespaceKey(jobNamespaceKey(jobId, namespace)), { jobId, namespace });
    }
  });

  it('refuse job ids that would make a key ambiguous, and malformed keys', () => {
    assert.throws(() => jobKey(''), TopicConfigError);
    assert.throws(() => jobKey('a/b'), TopicConfigError);
    assert.throws(() => jobNamespaceKey('a/b', 'db.c'), TopicConfigError);
    assert.throws(() => jobNamespaceKey('a', ''), TopicConfigError);
    for (const bad of ['nojob', '/db.c', 'job/'])
      assert.throws(() => parseJobNamespaceKey(bad), TopicConfigError, bad);
  });
});
