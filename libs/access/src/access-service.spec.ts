import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccessDeniedError,
  AccessValidationError,
  ApiKeyNotFoundError,
  ProjectConflictError,
  ProjectNotFoundError,
  UnauthenticatedError,
} from './access-errors';
import { AccessService } from './access-service';
import { generateApiKey } from './api-key';
import { accessCredentialsFromEnv } from './credentials-env';
import { MemoryAccessStore } from './memory-access-store';
import { ADMIN, SERVICE } from './principal';

const ADMIN_KEY = 'admin-'.padEnd(40, 'a');
const SERVICE_TOKEN = 'service-'.padEnd(40, 's');
const bearer = (t: string) => `Bearer ${t}`;

function world(jobs: Record<string, number> = {}) {
  let now = new Date('2026-12-04T01:00:00.000Z');
  const store = new MemoryAccessStore();
  let touches = 0;
  const counted = Object.assign(Object.create(store) as MemoryAccessStore, {
    touchKey: async (id: string, at: Date) => {
      touches++;
      await store.touchKey(id, at);
    },
  });
  const service = new AccessService({
    store: counted,
    adminKey: ADMIN_KEY,
    serviceToken: SERVICE_TOKEN,
    jobsInProject: async (p) => jobs[p] ?? 0,
    now: () => now,
  });
  return {
    store,
    service,
    touches: () => touches,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

describe('AccessService', () => {
  it('authenticates the admin key, the service token and API keys; refuses everything else with a reason', async () => {
    const { service } = world();
    assert.equal(await service.authenticate(bearer(ADMIN_KEY)), ADMIN);
    assert.equal(await service.authenticate(`bearer  ${SERVICE_TOKEN}`), SERVICE);
    await service.createProject(ADMIN, { name: 'shop' });
    const { key, token } = await service.createKey(ADMIN, { grants: { shop: 'viewer' } });
    assert.deepEqual(await service.authenticate(bearer(token)), {
      kind: 'key',
      keyId: key.id,
      grants: { shop: 'viewer' },
    });
    const wrongSecret = `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const cases: [string | undefined, RegExp][] = [
      [undefined, /no credential/],
      ['', /no credential/],
      [`Basic ${token}`, /malformed Authorization/],
      ['Bearer', /malformed Authorization/],
      [bearer('not-a-key'), /malformed API key/],
      [bearer(ADMIN_KEY.slice(1)), /malformed API key/],
      [bearer(generateApiKey().token), /unknown API key/],
      [bearer(wrongSecret), /unknown API key/],
    ];
    for (const [header, reason] of cases) {
      const err = await service.authenticate(header).then(
        () => assert.fail(`accepted ${header}`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof UnauthenticatedError, String(err));
      assert.match(err.message, reason);
      assert.ok(!err.message.includes(token.slice(17)), 'no secret in the reason');
    }
  });

  it('a revoked key is refused at once, even with its verification remembered', async () => {
    const { service } = world();
    await service.createProject(ADMIN, { name: 'shop' });
    const { key, token } = await service.createKey(ADMIN, { grants: { shop: 'owner' } });
    await service.authenticate(bearer(token));
    await service.revokeKey(ADMIN, key.id);
    await assert.rejects(service.authenticate(bearer(token)), /API key [0-9a-f]{12} is revoked/);
  });

  it('a revoked key is refused at once by another replica sharing the store', async () => {
    const a = world();
    const b = new AccessService({
      store: a.store,
      adminKey: ADMIN_KEY,
      serviceToken: SERVICE_TOKEN,
      jobsInProject: async () => 0,
    });
    await a.service.createProject(ADMIN, { name: 'shop' });
    const { key, token } = await a.service.createKey(ADMIN, { grants: { shop: 'owner' } });
    await b.authenticate(bearer(token));
    await a.service.revokeKey(ADMIN, key.id);
    await assert.rejects(b.authenticate(bearer(token)), UnauthenticatedError);
  });

  it('writes lastUsedAt at most once a minute', async () => {
    const w = world();
    await w.service.createProject(ADMIN, { name: 'shop' });
    const { key, token } = await w.service.createKey(ADMIN, { grants: { shop: 'viewer' } });
    for (let i = 0; i < 5; i++) await w.service.authenticate(bearer(token));
    assert.equal(w.touches(), 1);
    const first = (await w.store.getKey(key.id))?.lastUsedAt;
    w.advance(59_000);
    await w.service.authenticate(bearer(token));
    assert.equal(w.touches(), 1);
    w.advance(2_000);
    await w.service.authenticate(bearer(token));
    assert.equal(w.touches(), 2);
    assert.ok((await w.store.getKey(key.id))!.lastUsedAt!.getTime() > first!.getTime());
  });

  it('projects: admin creates and deletes (only when empty); a key reads only its own, others are 404', async () => {
    const { service } = world({ busy: 2 });
    await service.createProject(ADMIN, { name: 'shop' });
    await service.createProject(ADMIN, { name: 'crm' });
    await service.createProject(ADMIN, { name: 'busy' });
    await assert.rejects(service.createProject(ADMIN, { name: 'shop' }), ProjectConflictError);
    await assert.rejects(service.createProject(ADMIN, { name: 'a b' }), AccessValidationError);
    await assert.rejects(service.createProject(ADMIN, { name: 'x', extra: 1 }), /unknown field/);
    const owner = (await service.authenticate(
      bearer((await service.createKey(ADMIN, { grants: { shop: 'owner' } })).token),
    )) as never;
    await assert.rejects(service.createProject(owner, { name: 'mine' }), AccessDeniedError);
    assert.deepEqual(
      (await service.listProjects(owner)).map((p) => p.name),
      ['shop'],
    );
    assert.equal((await service.getProject(owner, 'shop')).name, 'shop');
    await assert.rejects(service.getProject(owner, 'crm'), ProjectNotFoundError);
    await assert.rejects(service.getProject(owner, 'nope'), ProjectNotFoundError);
    await assert.rejects(service.deleteProject(owner, 'crm'), ProjectNotFoundError);
    await assert.rejects(service.deleteProject(owner, 'shop'), AccessDeniedError);
    await assert.rejects(service.deleteProject(ADMIN, 'busy'), /still holds 2 jobs/);
    await service.deleteProject(ADMIN, 'shop');
    await assert.rejects(service.getProject(ADMIN, 'shop'), ProjectNotFoundError);
  });

  it('keys: an owner mints keys only within the projects it owns, lists and revokes only those', async () => {
    const { service } = world();
    for (const name of ['a', 'b', 'c']) await service.createProject(ADMIN, { name });
    const mixed = await service.authenticate(
      bearer((await service.createKey(ADMIN, { grants: { a: 'owner', b: 'operator' } })).token),
    );
    const forA = await service.createKey(mixed, { grants: { a: 'viewer' } });
    assert.equal(forA.key.createdBy, mixed.keyId);
    await assert.rejects(service.createKey(mixed, { grants: { b: 'viewer' } }), AccessDeniedError);
    await assert.rejects(service.createKey(mixed, { grants: { c: 'viewer' } }), ProjectNotFoundError);
    await assert.rejects(service.createKey(mixed, { grants: { nope: 'viewer' } }), ProjectNotFoundError);
    await assert.rejects(service.createKey(mixed, { grants: { a: 'admin' } }), AccessValidationError);
    await assert.rejects(service.createKey(mixed, { grants: {} }), AccessValidationError);
    await assert.rejects(service.createKey(mixed, { grants: { a: 'viewer' }, role: 'x' }), /unknown field/);
    const onB = await service.createKey(ADMIN, { grants: { b: 'viewer' } });
    assert.deepEqual(
      (await service.listKeys(mixed)).map((k) => k.id),
      [forA.key.id],
    );
    assert.equal((await service.listKeys(ADMIN)).length, 3);
    await assert.rejects(service.revokeKey(mixed, onB.key.id), ApiKeyNotFoundError);
    await assert.rejects(service.revokeKey(mixed, 'zz'), ApiKeyNotFoundError);
    assert.ok((await service.revokeKey(mixed, forA.key.id)).revokedAt);
  });
});

describe('accessCredentialsFromEnv', () => {
  const files: Record<string, string> = { '/run/admin': `  ${ADMIN_KEY}\n`, '/run/short': 'x\n' };
  const read = (p: string) => {
    const text = files[p];
    if (text === undefined) throw new Error('ENOENT');
    return text;
  };

  it('takes each from its variable or its file, and names both variables when one is missing', () => {
    assert.deepEqual(
      accessCredentialsFromEnv(
        { TIDEMARK_ADMIN_KEY_FILE: '/run/admin', TIDEMARK_SERVICE_TOKEN: SERVICE_TOKEN },
        read,
      ),
      { adminKey: ADMIN_KEY, serviceToken: SERVICE_TOKEN },
    );
    assert.throws(
      () => accessCredentialsFromEnv({ TIDEMARK_SERVICE_TOKEN: SERVICE_TOKEN }, read),
      /job-state needs the bootstrap admin key: set TIDEMARK_ADMIN_KEY or TIDEMARK_ADMIN_KEY_FILE/,
    );
    assert.throws(
      () => accessCredentialsFromEnv({ TIDEMARK_ADMIN_KEY: ADMIN_KEY }, read),
      /TIDEMARK_SERVICE_TOKEN or TIDEMARK_SERVICE_TOKEN_FILE/,
    );
  });

  it('refuses short, doubly set, unreadable and equal credentials without quoting them', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { TIDEMARK_ADMIN_KEY: 'short', TIDEMARK_SERVICE_TOKEN: SERVICE_TOKEN },
        /at least 32 characters, got 5/,
      ],
      [
        { TIDEMARK_ADMIN_KEY_FILE: '/run/short', TIDEMARK_SERVICE_TOKEN: SERVICE_TOKEN },
        /ADMIN_KEY_FILE must/,
      ],
      [
        {
          TIDEMARK_ADMIN_KEY: ADMIN_KEY,
          TIDEMARK_ADMIN_KEY_FILE: '/run/admin',
          TIDEMARK_SERVICE_TOKEN: SERVICE_TOKEN,
        },
        /not both/,
      ],
      [{ TIDEMARK_ADMIN_KEY_FILE: '/run/none', TIDEMARK_SERVICE_TOKEN: SERVICE_TOKEN }, /cannot read/],
      [{ TIDEMARK_ADMIN_KEY: ADMIN_KEY, TIDEMARK_SERVICE_TOKEN: ADMIN_KEY }, /must differ/],
    ];
    for (const [env, reason] of cases) {
      assert.throws(
        () => accessCredentialsFromEnv(env, read),
        (err: Error) => reason.test(err.message) && !err.message.includes(ADMIN_KEY),
      );
    }
  });
});
