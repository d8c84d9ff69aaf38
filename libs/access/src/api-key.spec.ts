import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiKeyPrefix, generateApiKey, hashSecret, parseApiKey, verifySecret } from './api-key';

describe('API keys', () => {
  it('are tmk_<12 hex id>_<43 base64url secret> with 256 random bits, each different', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    assert.match(a.token, /^tmk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(a.secret, 'base64url').length, 32);
    assert.notEqual(a.token, b.token);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(parseApiKey(a.token), { id: a.id, secret: a.secret });
    assert.equal(apiKeyPrefix(a.id), `tmk_${a.id}_`);
    assert.ok(a.token.startsWith(apiKeyPrefix(a.id)));
  });

  it('parse refuses anything else', () => {
    const { token } = generateApiKey();
    for (const bad of [
      '',
      'tmk_',
      token.slice(0, -1),
      `${token}x`,
      token.replace('tmk_', 'tmx_'),
      token.toUpperCase(),
      ` ${token}`,
      'a'.repeat(64),
    ])
      assert.equal(parseApiKey(bad), undefined, bad);
  });

  it('hash with a per-key salt (two hashes of one secret differ) and verify only the right secret', async () => {
    const { secret } = generateApiKey();
    const h1 = await hashSecret(secret);
    const h2 = await hashSecret(secret);
    assert.notEqual(h1.salt, h2.salt);
    assert.notEqual(h1.hash, h2.hash);
    assert.equal(h1.hash.length, 64);
    assert.ok(!h1.hash.includes(secret));
    assert.equal(await verifySecret(secret, h1), true);
    assert.equal(await verifySecret(secret, h2), true);
    assert.equal(await verifySecret(generateApiKey().secret, h1), false);
    assert.equal(await verifySecret(secret, { ...h1, salt: h2.salt }), false);
  });
});
