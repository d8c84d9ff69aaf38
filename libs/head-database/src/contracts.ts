/**
 * Conformance suites of the stores the apply loop uses: every implementation (the in-memory ones here, the MongoDB
 * ones of `@tidemark/head-database-mongo` in its integration spec) runs them. Not exported from the index (production code
 * must not load `node:test`); specs elsewhere import `@tidemark/head-database-contract`.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FenceStore, LeaseStore, MissingDocumentRecord, MissingDocumentStore } from './ports';

export interface StoreFixture<S> {
  readonly store: S;
  /** Called after each test (drop the test's collections, close clients). */
  dispose?(): Promise<void>;
}

/** Registers the {@link LeaseStore} suite. Each fixture must be empty (names are unique per test anyway). */
export function describeLeaseStore(name: string, factory: () => Promise<StoreFixture<LeaseStore>>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let fx: StoreFixture<LeaseStore>;
    let leases: LeaseStore;
    let lease: string;
    let n = 0;
    beforeEach(async () => {
      fx = await factory();
      leases = fx.store;
      n += 1;
      lease = `apply:job${n}${Date.now().toString(36)}`;
    });
    afterEach(async () => {
      await fx.dispose?.();
    });

    it('grants a free lease, and grants it again (extended) to its holder', async () => {
      const first = await leases.acquire(lease, 'a', 10_000);
      assert.equal(first?.owner, 'a');
      const again = await leases.acquire(lease, 'a', 20_000);
      assert.equal(again?.owner, 'a');
      assert.ok((again?.expiresAt.getTime() ?? 0) >= (first?.expiresAt.getTime() ?? Infinity));
    });

    it('refuses a held lease to another owner until it expires', async () => {
      assert.ok(await leases.acquire(lease, 'a', 150));
      assert.equal(await leases.acquire(lease, 'b', 10_000), undefined);
      await sleep(300);
      assert.equal((await leases.acquire(lease, 'b', 10_000))?.owner, 'b');
      assert.equal(await leases.renew(lease, 'a', 10_000), undefined, 'the old holder lost it');
    });

    it('renews only for the holder, also after expiry when nobody took it', async () => {
      assert.equal(await leases.renew(lease, 'a', 10_000), undefined, 'nothing to renew');
      assert.ok(await leases.acquire(lease, 'a', 100));
      await sleep(200);
      assert.equal((await leases.renew(lease, 'a', 10_000))?.owner, 'a');
      assert.equal(await leases.acquire(lease, 'b', 10_000), undefined, 'renewed: still held');
    });

    it('release frees the lease; releasing a lease one does not hold changes nothing', async () => {
      assert.ok(await leases.acquire(lease, 'a', 10_000));
      await leases.release(lease, 'b');
      assert.equal(await leases.acquire(lease, 'b', 10_000), undefined);
      await leases.release(lease, 'a');
      await leases.release(lease, 'a');
      assert.equal((await leases.acquire(lease, 'b', 10_000))?.owner, 'b');
    });

    it('two owners racing for a free lease: exactly one wins', async () => {
      const grants = await Promise.all(['a', 'b', 'c', 'd'].map((o) => leases.acquire(lease, o, 10_000)));
      assert.equal(grants.filter((g) => g !== undefined).length, 1);
    });
  });
}

/** Registers the {@link FenceStore} suite. Each fixture must be empty (job ids are unique per test anyway). */
export function describeFenceStore(name: string, factory: () => Promise<StoreFixture<FenceStore>>): void {
  describe(`FenceStore contract: ${name}`, () => {
    let fx: StoreFixture<FenceStore>;
    let fences: FenceStore;
    let jobId: string;
    let n = 0;
    beforeEach(async () => {
      fx = await factory();
      fences = fx.store;
      n += 1;
      jobId = `job${n}${Date.now().toString(36)}`;
    });
    afterEach(async () => {
      await fx.dispose?.();
    });

    it('writes a request where none stands, shows it as current, and extends it for its owner', async () => {
      assert.equal(await fences.current(jobId), undefined);
      const first = await fences.request(jobId, 'a', 10_000);
      assert.deepEqual([first?.jobId, first?.owner], [jobId, 'a']);
      assert.equal((await fences.current(jobId))?.owner, 'a');
      const again = await fences.request(jobId, 'a', 20_000);
      assert.ok((again?.expiresAt.getTime() ?? 0) >= (first?.expiresAt.getTime() ?? Infinity));
    });

    it('refuses another owner while a request stands; an expired one is no longer current and can be replaced', async () => {
      assert.ok(await fences.request(jobId, 'a', 150));
      assert.equal(await fences.request(jobId, 'b', 10_000), undefined);
      await sleep(300);
      assert.equal(await fences.current(jobId), undefined, 'expired: its holder died');
      assert.equal((await fences.request(jobId, 'b', 10_000))?.owner, 'b');
      assert.equal(await fences.renew(jobId, 'a', 10_000), undefined, 'the old owner lost it');
    });

    it('renews only for its owner, also after expiry when nobody replaced it', async () => {
      assert.equal(await fences.renew(jobId, 'a', 10_000), undefined, 'nothing to renew');
      assert.ok(await fences.request(jobId, 'a', 100));
      await sleep(200);
      assert.equal((await fences.renew(jobId, 'a', 10_000))?.owner, 'a');
      assert.equal((await fences.current(jobId))?.owner, 'a');
    });

    it('withdraw removes the owner’s request only', async () => {
      assert.ok(await fences.request(jobId, 'a', 10_000));
      await fences.withdraw(jobId, 'b');
      assert.equal((await fences.current(jobId))?.owner, 'a');
      await fences.withdraw(jobId, 'a');
      await fences.withdraw(jobId, 'a');
      assert.equal(await fences.current(jobId), undefined);
    });

    it('owners racing for a job: exactly one request is written', async () => {
      const grants = await Promise.all(['a', 'b', 'c', 'd'].map((o) => fences.request(jobId, o, 10_000)));
      assert.equal(grants.filter((g) => g !== undefined).length, 1);
    });
  });
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const rec = (sourceNs: string, id: string, t = 100): MissingDocumentRecord => ({
  sourceNs,
  targetNs: `th_j_1_${sourceNs}`,
  id,
  ts: { t, i: 1 },
});

/** Registers the {@link MissingDocumentStore} suite. */
export function describeMissingDocumentStore(
  name: string,
  factory: () => Promise<StoreFixture<MissingDocumentStore>>,
): void {
  describe(`MissingDocumentStore contract: ${name}`, () => {
    let fx: StoreFixture<MissingDocumentStore>;
    let store: MissingDocumentStore;
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.dispose?.();
    });

    it('records idempotently per (job, sync, namespace, id)', async () => {
      await store.record('j', 'j-s1', [rec('db.a', '{"$numberInt":"1"}'), rec('db.a', '"x"')]);
      await store.record('j', 'j-s1', [
        rec('db.a', '{"$numberInt":"1"}', 200),
        rec('db.b', '{"$numberInt":"1"}'),
      ]);
      await store.record('j', 'j-s1', []);
      assert.equal(await store.count('j', 'j-s1'), 3);
      assert.deepEqual(await store.namespaces('j', 'j-s1'), ['db.a', 'db.b']);
    });

    it('keeps syncs and jobs apart; deleteSync forgets one sync only', async () => {
      await store.record('j', 'j-s1', [rec('db.a', '"1"')]);
      await store.record('j', 'j-s2', [rec('db.a', '"2"')]);
      await store.record('k', 'k-s1', [rec('db.a', '"3"')]);
      assert.deepEqual(await collect(store.ids('j', 'j-s2', 'db.a')), ['"2"']);
      await store.deleteSync('j', 'j-s1');
      await store.deleteSync('j', 'j-s1');
      assert.equal(await store.count('j', 'j-s1'), 0);
      assert.deepEqual(await store.namespaces('j', 'j-s1'), []);
      assert.equal(await store.count('j', 'j-s2'), 1);
      assert.equal(await store.count('k', 'k-s1'), 1);
    });

    it('lists the ids of a namespace sorted by their text, streamed', async () => {
      const ids = Array.from({ length: 250 }, (_, k) => `{"$numberInt":"${k}"}`);
      await store.record(
        'j',
        'j-s1',
        [...ids].reverse().map((id) => rec('db.c', id)),
      );
      assert.deepEqual(await collect(store.ids('j', 'j-s1', 'db.c')), [...ids].sort());
      assert.deepEqual(await collect(store.ids('j', 'j-s1', 'db.none')), []);
    });
  });
}
export { describeHeadRegistry } from './head-registry.contract';
