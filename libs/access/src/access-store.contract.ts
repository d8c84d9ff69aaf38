/**
 * The one conformance suite of the {@link AccessStore} port (`@tidemark/access-contract`): the in-memory store's
 * spec and `MongoAccessStore`'s int-spec run it. `factory` gives a fresh, empty store per call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessStore, ApiKeyRecord } from './ports';

export function sampleKeyRecord(id: string, createdAt: Date, grants: ApiKeyRecord['grants']): ApiKeyRecord {
  return {
    id,
    salt: '00112233445566778899aabbccddeeff',
    hash: 'ab'.repeat(32),
    grants,
    createdAt,
    createdBy: 'admin',
    lastUsedAt: undefined,
    revokedAt: undefined,
  };
}

export function describeAccessStore(name: string, factory: () => Promise<AccessStore>): void {
  describe(`AccessStore contract: ${name}`, () => {
    const t0 = new Date('2026-12-04T01:00:00.000Z');
    const later = (s: number) => new Date(t0.getTime() + s * 1000);

    it('creates a project once, reads it back, lists by name (all or some), and deletes it once', async () => {
      const store = await factory();
      assert.equal(await store.insertProject({ name: 'shop', createdAt: t0 }), true);
      assert.equal(await store.insertProject({ name: 'shop', createdAt: later(1) }), false);
      assert.equal(await store.insertProject({ name: 'crm', createdAt: later(2) }), true);
      assert.deepEqual(await store.getProject('shop'), { name: 'shop', createdAt: t0 });
      assert.equal(await store.getProject('nope'), undefined);
      assert.deepEqual(
        (await store.listProjects()).map((p) => p.name),
        ['crm', 'shop'],
      );
      assert.deepEqual(
        (await store.listProjects(['shop', 'nope'])).map((p) => p.name),
        ['shop'],
      );
      assert.equal(await store.deleteProject('shop'), true);
      assert.equal(await store.deleteProject('shop'), false);
      assert.equal(await store.getProject('shop'), undefined);
    });

    it('stores keys create-only and reads back exactly what was written, oldest first', async () => {
      const store = await factory();
      const a = sampleKeyRecord('0123456789ab', t0, { shop: 'operator', crm: 'viewer' });
      const b = sampleKeyRecord('ba9876543210', later(5), { shop: 'owner' });
      assert.equal(await store.insertKey(b), true);
      assert.equal(await store.insertKey(a), true);
      assert.equal(await store.insertKey({ ...a, grants: { x: 'owner' } }), false);
      assert.deepEqual(await store.getKey(a.id), a);
      assert.equal(await store.getKey('000000000000'), undefined);
      assert.deepEqual(
        (await store.listKeys()).map((k) => k.id),
        [a.id, b.id],
      );
    });

    it('revokes once (the first time stays) and records the last use', async () => {
      const store = await factory();
      const a = sampleKeyRecord('0123456789ab', t0, { shop: 'viewer' });
      await store.insertKey(a);
      await store.touchKey(a.id, later(10));
      assert.deepEqual((await store.getKey(a.id))?.lastUsedAt, later(10));
      assert.equal(await store.revokeKey(a.id, later(20)), true);
      assert.equal(await store.revokeKey(a.id, later(30)), true);
      assert.deepEqual((await store.getKey(a.id))?.revokedAt, later(20));
      assert.equal(await store.revokeKey('000000000000', later(20)), false);
      await store.touchKey('000000000000', later(20));
    });

    it("deleting a project drops its grant from every key, and leaves the keys' other grants", async () => {
      const store = await factory();
      await store.insertProject({ name: 'shop', createdAt: t0 });
      await store.insertProject({ name: 'crm', createdAt: t0 });
      await store.insertKey(sampleKeyRecord('0123456789ab', t0, { shop: 'owner', crm: 'viewer' }));
      await store.insertKey(sampleKeyRecord('ba9876543210', t0, { crm: 'operator' }));
      assert.equal(await store.deleteProject('shop'), true);
      assert.deepEqual((await store.getKey('0123456789ab'))?.grants, { crm: 'viewer' });
      assert.deepEqual((await store.getKey('ba9876543210'))?.grants, { crm: 'operator' });
    });
  });
}
