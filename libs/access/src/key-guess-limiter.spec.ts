import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TooManyAuthFailuresError, UnauthenticatedError } from './access-errors';
import { AccessService } from './access-service';
import { MemoryAccessStore } from './memory-access-store';
import { KeyGuessLimiter } from './key-guess-limiter';
import { ADMIN } from './principal';

const ADMIN_KEY = 'admin-'.padEnd(40, 'a');
const SERVICE_TOKEN = 'service-'.padEnd(40, 's');
const bearer = (t: string) => `Bearer ${t}`;

describe('KeyGuessLimiter', () => {
  it('refuses a subject at maxFailures inside the window, until the oldest failure leaves it', () => {
    const limiter = new KeyGuessLimiter({ maxFailures: 3, windowMs: 10_000 });
    const a = { address: '10.0.0.1', keyId: undefined };
    limiter.recordFailure(a, 1_000);
    limiter.recordFailure(a, 2_000);
    assert.equal(limiter.retryAfterMs(a, 2_500), 0, 'two failures: still allowed');
    limiter.recordFailure(a, 3_000);
    assert.equal(limiter.retryAfterMs(a, 3_000), 8_000, 'until 1_000 + 10_000');
    assert.equal(limiter.retryAfterMs(a, 10_999), 1);
    assert.equal(limiter.retryAfterMs(a, 11_000), 0, 'the oldest left the window (sliding, not fixed)');
    assert.equal(
      limiter.retryAfterMs({ address: '10.0.0.2', keyId: undefined }, 3_000),
      0,
      'others unaffected',
    );
  });

  it('counts per address and per key id: one key id guessed from many addresses is limited too', () => {
    const limiter = new KeyGuessLimiter({ maxFailures: 2, windowMs: 60_000 });
    limiter.recordFailure({ address: '10.0.0.1', keyId: 'aaaaaaaaaaaa' }, 0);
    limiter.recordFailure({ address: '10.0.0.2', keyId: 'aaaaaaaaaaaa' }, 1);
    assert.ok(limiter.retryAfterMs({ address: '10.0.0.3', keyId: 'aaaaaaaaaaaa' }, 2) > 0);
    assert.equal(limiter.retryAfterMs({ address: '10.0.0.3', keyId: 'bbbbbbbbbbbb' }, 2), 0);
  });

  it('tracks at most maxSubjects, forgetting the least recently failed', () => {
    const limiter = new KeyGuessLimiter({ maxFailures: 1, windowMs: 60_000 }, 2);
    for (const address of ['a', 'b', 'c']) limiter.recordFailure({ address, keyId: undefined }, 0);
    assert.equal(limiter.trackedSubjects, 2);
    assert.equal(limiter.retryAfterMs({ address: 'a', keyId: undefined }, 1), 0);
    assert.ok(limiter.retryAfterMs({ address: 'c', keyId: undefined }, 1) > 0);
  });

  it('refuses limits that are not positive integers', () => {
    assert.throws(() => new KeyGuessLimiter({ maxFailures: 0, windowMs: 1 }), RangeError);
    assert.throws(() => new KeyGuessLimiter({ maxFailures: 1, windowMs: 0.5 }), RangeError);
  });
});

describe('AccessService with a key-guess limit', () => {
  async function world() {
    let nowMs = Date.parse('2026-12-04T01:00:00.000Z');
    const store = new MemoryAccessStore();
    let lookups = 0;
    const counted = Object.assign(Object.create(store) as MemoryAccessStore, {
      getKey: async (id: string) => {
        lookups++;
        return store.getKey(id);
      },
    });
    const service = new AccessService({
      store: counted,
      adminKey: ADMIN_KEY,
      serviceToken: SERVICE_TOKEN,
      jobsInProject: async () => 0,
      now: () => new Date(nowMs),
      keyGuessLimiter: new KeyGuessLimiter({ maxFailures: 3, windowMs: 60_000 }),
    });
    await service.createProject(ADMIN, { name: 'shop' });
    const valid = await service.createKey(ADMIN, { grants: { shop: 'viewer' } });
    const fresh = await service.createKey(ADMIN, { grants: { shop: 'viewer' } });
    return {
      service,
      valid,
      fresh,
      lookups: () => lookups,
      advance: (ms: number) => (nowMs += ms),
    };
  }

  it('answers 429 after the limit of failures from an address, before any key lookup or scrypt', async () => {
    const { service, valid, lookups, advance } = await world();
    await service.authenticate(bearer(valid.token), '10.0.0.9'); // verified once: trusted from now on
    const wrongSecret = `${valid.token.slice(0, -3)}${valid.token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const guesses = ['Basic abc', bearer('not-a-key'), bearer(`tmk_${'0'.repeat(12)}_${'x'.repeat(43)}`)];
    for (const g of guesses)
      await assert.rejects(service.authenticate(g, '10.0.0.1'), UnauthenticatedError, g);
    const before = lookups();
    const err = await service.authenticate(bearer(wrongSecret), '10.0.0.1').catch((e: unknown) => e);
    assert.ok(err instanceof TooManyAuthFailuresError);
    assert.equal(err.retryAfterSeconds, 60);
    assert.doesNotMatch(err.message, /tmk_/);
    assert.equal(lookups(), before, 'refused before the key was even looked up (so before scrypt)');

    // A key that already passed scrypt, the admin key and another address are not slowed.
    assert.equal((await service.authenticate(bearer(valid.token), '10.0.0.1')).keyId, valid.key.id);
    assert.equal(await service.authenticate(bearer(ADMIN_KEY), '10.0.0.1'), ADMIN);
    await assert.rejects(service.authenticate(bearer(wrongSecret), '10.0.0.2'), UnauthenticatedError);

    advance(60_001);
    await assert.rejects(service.authenticate(bearer(wrongSecret), '10.0.0.1'), UnauthenticatedError);
  });

  it('limits guesses at one key id from any address; the real key, once verified, still works', async () => {
    const { service, fresh } = await world();
    const wrong = `${fresh.token.slice(0, -3)}${fresh.token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      await assert.rejects(service.authenticate(bearer(wrong), address), UnauthenticatedError);
    await assert.rejects(service.authenticate(bearer(wrong), '10.0.0.4'), TooManyAuthFailuresError);
    // Not verified in this process yet: refused too (the price of the per-key limit, docs/api.md).
    await assert.rejects(service.authenticate(bearer(fresh.token), '10.0.0.5'), TooManyAuthFailuresError);
  });

  it('does not count a request without any credential as a guess', async () => {
    const { service } = await world();
    for (let i = 0; i < 5; i++)
      await assert.rejects(service.authenticate(undefined, '10.0.0.1'), /no credential/);
    await assert.rejects(service.authenticate(bearer('x'), '10.0.0.1'), UnauthenticatedError);
  });
});
