import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SourceNotAllowedError } from '@tidemark/mongo';
import { sourceNewestOpTime } from './job-wait';

describe('sourceNewestOpTime (job wait --lag-zero)', () => {
  it("refuses a job's source the environment binds no credentials to, before connecting", async () => {
    const env = {
      TIDEMARK_SOURCE_USERNAME: 'backup',
      TIDEMARK_SOURCE_PASSWORD: 'not-for-strangers',
      TIDEMARK_SOURCE_HOSTS: 'db1.example.net:27017',
    };
    // 192.0.2.1 (TEST-NET-1) is never reachable: a connection attempt would time out, not be refused at once.
    await assert.rejects(sourceNewestOpTime('mongodb://192.0.2.1:27017/', env), (err: unknown) => {
      assert.ok(err instanceof SourceNotAllowedError, String(err));
      assert.doesNotMatch(err.message, /not-for-strangers/);
      return true;
    });
  });
});
