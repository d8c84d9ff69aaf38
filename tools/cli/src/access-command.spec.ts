import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseGrantOptions } from './access-command';
import { apiKeyFromEnv, JobApiError } from './job-api-client';
import { localAdminKeyFile, localCredentialEnv } from './services';

const usage = (m: string) => new Error(m);

describe('tidemark key create --grant', () => {
  it('takes PROJECT=ROLE, each project once, roles viewer|operator|owner', () => {
    assert.deepEqual(parseGrantOptions(['shop=owner', 'crm=viewer'], usage), {
      shop: 'owner',
      crm: 'viewer',
    });
    assert.throws(() => parseGrantOptions([], usage), /at least one --grant/);
    assert.throws(() => parseGrantOptions(['shop'], usage), /is not PROJECT=ROLE/);
    assert.throws(() => parseGrantOptions(['shop=admin'], usage), /one of viewer, operator, owner/);
    assert.throws(() => parseGrantOptions(['shop=owner', 'shop=viewer'], usage), /twice/);
  });
});

describe('the API key the CLI sends', () => {
  it('comes from TIDEMARK_API_KEY or TIDEMARK_API_KEY_FILE; none is a clear error', () => {
    const key = `tmk_0123456789ab_${'a'.repeat(43)}`;
    assert.equal(apiKeyFromEnv({ TIDEMARK_API_KEY: key }), key);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-key-'));
    try {
      fs.writeFileSync(path.join(dir, 'k'), `${key}\n`);
      assert.equal(apiKeyFromEnv({ TIDEMARK_API_KEY_FILE: path.join(dir, 'k') }), key);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(
      () => apiKeyFromEnv({}),
      (e: Error) =>
        e instanceof JobApiError &&
        /no API key: set TIDEMARK_API_KEY or TIDEMARK_API_KEY_FILE/.test(e.message),
    );
    assert.throws(() => apiKeyFromEnv({ TIDEMARK_API_KEY: 'short' }), /at least 32 characters/);
  });
});

describe('tidemark up: local credentials', () => {
  it('makes the admin key and service token once, readable only by the user, unless the environment has them', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-home-'));
    try {
      const env = { TIDEMARK_HOME: home };
      const first = localCredentialEnv(env);
      assert.equal(first['TIDEMARK_ADMIN_KEY_FILE'], localAdminKeyFile(env));
      const admin = fs.readFileSync(first['TIDEMARK_ADMIN_KEY_FILE']!, 'utf8').trim();
      const token = fs.readFileSync(first['TIDEMARK_SERVICE_TOKEN_FILE']!, 'utf8').trim();
      assert.ok(admin.length >= 32 && token.length >= 32 && admin !== token);
      assert.equal(fs.statSync(first['TIDEMARK_ADMIN_KEY_FILE']!).mode & 0o777, 0o600);
      const again = localCredentialEnv(env);
      assert.equal(
        fs.readFileSync(again['TIDEMARK_ADMIN_KEY_FILE']!, 'utf8').trim(),
        admin,
        'kept, not remade',
      );
      assert.deepEqual(
        localCredentialEnv({
          ...env,
          TIDEMARK_ADMIN_KEY: 'x'.repeat(40),
          TIDEMARK_SERVICE_TOKEN_FILE: '/run/t',
        }),
        {},
      );
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
