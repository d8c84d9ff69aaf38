/**
 * The contract every {@link SnapshotStore} must pass (`@tidemark/snapshots-contract`). `factory` returns a fresh,
 * empty store per test, a `close`, and `elapse(ms)`: let at least `ms` of the store's time pass (the in-memory store
 * moves its clock; a real backend sleeps). Lock expiry is tested with TTLs of {@link CONTRACT_LOCK_TTL_MS}.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import type { SnapshotManifest, SnapshotState } from './manifest';
import { BlockMissingError } from './snapshot-errors';
import type { SnapshotRecord, SnapshotStore } from './snapshot-store';

export const CONTRACT_LOCK_TTL_MS = 500;

export interface SnapshotStoreFixture {
  readonly store: SnapshotStore;
  close(): Promise<void>;
  elapse(ms: number): Promise<void>;
}

const address = (seed: string) => createHash('sha256').update(seed).digest('hex');

function record(
  jobId: string,
  snapshotId: string,
  takenAt: string,
  state: SnapshotState = 'complete',
): SnapshotRecord {
  const manifest: SnapshotManifest = {
    format: 1,
    jobId,
    syncId: `${jobId}-s1`,
    snapshotId,
    opTime: { t: 2 ** 31 + 5, i: 3 },
    takenAt: new Date(takenAt),
    ...(state === 'complete' ? { completedAt: new Date(new Date(takenAt).getTime() + 1000) } : {}),
    store: 'filesystem',
    codec: 'gzip',
    chunking: { algorithm: 'fastcdc-2020', minSize: 16384, avgSize: 65536, maxSize: 262144 },
    namespaces: [
      {
        namespace: 'db.c',
        documentCount: 1,
        logicalBytes: 10,
        contentHash: address('content'),
        options: { capped: false },
        indexes: [{ v: 2, key: { b: 1, a: -1 }, name: 'b_1_a_-1' }],
        chunks: [{ address: address('c1'), length: 10 }],
      },
    ],
    logicalBytes: 10,
    storedBytes: 30,
    referencedBytes: 30,
    checksum: address('checksum'),
  };
  return { state, ...(state === 'failed' ? { reason: 'lock lost' } : {}), manifest };
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

export function describeSnapshotStore(name: string, factory: () => Promise<SnapshotStoreFixture>): void {
  const withStore = (fn: (f: SnapshotStoreFixture) => Promise<void>) => async () => {
    const fixture = await factory();
    try {
      await fn(fixture);
    } finally {
      await fixture.close();
    }
  };

  describe(`SnapshotStore contract: ${name}`, () => {
    it(
      'stores blocks once under their address, per job',
      withStore(async ({ store }) => {
        const [a, b] = [address('a'), address('b')];
        const bytes = randomBytes(1000);
        assert.equal(await store.hasBlock('j1', a), false);
        await store.putBlock('j1', a, bytes);
        await store.putBlock('j1', a, randomBytes(10)); // exists: nothing changes
        await store.putBlock('j1', b, new Uint8Array(0));
        assert.equal(await store.hasBlock('j1', a), true);
        assert.deepEqual(Buffer.from(await store.getBlock('j1', a)), bytes);
        assert.equal((await store.getBlock('j1', b)).length, 0);
        assert.deepEqual(await collect(store.listBlocks('j1')), [a, b].sort());
        assert.equal(await store.hasBlock('j2', a), false);
        assert.deepEqual(await collect(store.listBlocks('j2')), []);
        await store.deleteBlock('j1', a);
        await store.deleteBlock('j1', a);
        assert.equal(await store.hasBlock('j1', a), false);
        assert.deepEqual(await collect(store.listBlocks('j1')), [b]);
      }),
    );

    it(
      'getBlock of a missing block throws BlockMissingError naming where it should be',
      withStore(async ({ store }) => {
        const a = address('missing');
        await assert.rejects(store.getBlock('j1', a), (err: unknown) => {
          assert.ok(err instanceof BlockMissingError);
          assert.equal(err.address, a);
          assert.equal(err.location, store.blockLocation('j1', a));
          assert.equal(err.retriable, false);
          return true;
        });
        assert.ok(store.blockLocation('j1', a).includes(a));
      }),
    );

    it(
      'keeps snapshot records: replace, list newest first, delete',
      withStore(async ({ store }) => {
        assert.equal(await store.getSnapshot('j1', 's1'), undefined);
        assert.deepEqual(await store.listSnapshots('j1'), []);
        await store.putSnapshot(record('j1', 's1', '2026-12-01T00:00:00.000Z', 'in-progress'));
        await store.putSnapshot(record('j1', 's1', '2026-12-01T00:00:00.000Z', 'complete'));
        await store.putSnapshot(record('j1', 's3', '2026-12-03T00:00:00.000Z', 'failed'));
        await store.putSnapshot(record('j1', 's2', '2026-12-02T00:00:00.000Z'));
        await store.putSnapshot(record('j2', 'x', '2026-12-05T00:00:00.000Z'));
        assert.deepEqual(await store.getSnapshot('j1', 's1'), record('j1', 's1', '2026-12-01T00:00:00.000Z'));
        const listed = await store.listSnapshots('j1');
        assert.deepEqual(
          listed.map((r) => [r.manifest.snapshotId, r.state]),
          [
            ['s3', 'failed'],
            ['s2', 'complete'],
            ['s1', 'complete'],
          ],
        );
        assert.equal(listed[0]?.reason, 'lock lost');
        // Dates, positions and the order of an index key survive the round trip.
        const back = listed[2]?.manifest;
        assert.ok(back?.takenAt instanceof Date);
        assert.deepEqual(back?.opTime, { t: 2 ** 31 + 5, i: 3 });
        assert.deepEqual(Object.keys(back?.namespaces[0]?.indexes[0]?.['key'] as object), ['b', 'a']);
        await store.deleteSnapshot('j1', 's2');
        await store.deleteSnapshot('j1', 's2');
        assert.deepEqual(
          (await store.listSnapshots('j1')).map((r) => r.manifest.snapshotId),
          ['s3', 's1'],
        );
        assert.equal((await store.listSnapshots('j2')).length, 1);
      }),
    );

    it(
      "gives the job's lock to one owner at a time; the holder extends it",
      withStore(async ({ store }) => {
        const ttl = CONTRACT_LOCK_TTL_MS;
        const grant = await store.acquireLock('j1', 'a', ttl);
        assert.equal(grant?.owner, 'a');
        assert.equal(grant?.jobId, 'j1');
        assert.ok(grant?.expiresAt instanceof Date && !Number.isNaN(grant.expiresAt.getTime()));
        assert.equal(await store.acquireLock('j1', 'b', ttl), undefined);
        assert.equal(await store.renewLock('j1', 'b', ttl), undefined);
        assert.equal((await store.acquireLock('j1', 'a', ttl))?.owner, 'a');
        assert.equal((await store.renewLock('j1', 'a', ttl))?.owner, 'a');
        assert.equal((await store.acquireLock('j2', 'b', ttl))?.owner, 'b', 'locks are per job');
        await store.releaseLock('j1', 'b'); // not the holder: nothing changes
        assert.equal(await store.acquireLock('j1', 'b', ttl), undefined);
        await store.releaseLock('j1', 'a');
        assert.equal((await store.acquireLock('j1', 'b', ttl))?.owner, 'b');
        assert.equal(await store.renewLock('j1', 'a', ttl), undefined);
      }),
    );

    it(
      "lets another owner take an expired lock; the old holder's renew then fails",
      withStore(async ({ store, elapse }) => {
        const ttl = CONTRACT_LOCK_TTL_MS;
        assert.ok(await store.acquireLock('j1', 'a', ttl));
        await elapse(ttl + 50);
        assert.equal(await store.renewLock('j1', 'a', ttl), undefined, 'an expired lock is lost');
        assert.equal((await store.acquireLock('j1', 'b', ttl))?.owner, 'b');
        assert.equal(await store.renewLock('j1', 'a', ttl), undefined);
        assert.equal(await store.acquireLock('j1', 'a', ttl), undefined);
      }),
    );

    it(
      'deleteJob removes blocks, records and the lock of that job only',
      withStore(async ({ store }) => {
        await store.putBlock('j1', address('a'), randomBytes(10));
        await store.putBlock('j2', address('a'), randomBytes(10));
        await store.putSnapshot(record('j1', 's1', '2026-12-01T00:00:00.000Z'));
        await store.putSnapshot(record('j2', 's1', '2026-12-01T00:00:00.000Z'));
        assert.ok(await store.acquireLock('j1', 'a', CONTRACT_LOCK_TTL_MS));
        await store.deleteJob('j1');
        assert.deepEqual(await collect(store.listBlocks('j1')), []);
        assert.deepEqual(await store.listSnapshots('j1'), []);
        assert.equal((await store.acquireLock('j1', 'b', CONTRACT_LOCK_TTL_MS))?.owner, 'b');
        assert.equal(await store.hasBlock('j2', address('a')), true);
        assert.equal((await store.listSnapshots('j2')).length, 1);
      }),
    );
  });
}
