/**
 * The conformance suite every `SnapshotStore` passes (restic's `internal/backend/test`): the in-memory store in unit
 * specs, and `blockstore`, `s3` and `filesystem` in their integration specs against the real backends.
 *
 * `makeStore` returns a fresh, empty store per test (its own database, bucket prefix or directory) and `close`
 * removes what the test wrote. The suite names its jobs `j1`, `j2`, ... and its snapshots `<job>-snap-<n>`; block
 * addresses are the SHA-256 of the bytes, as the snapshotter writes them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { discardBuffer } from '@tidemark/util';
import { BlockMissingError } from './snapshot-errors';
import type { SnapshotManifest, SnapshotState } from './manifest';
import type { SnapshotRecord, SnapshotStore } from './snapshot-store';

export interface SnapshotStoreUnderTest {
  store: SnapshotStore;
  close(): Promise<void>;
}

/** The SHA-256 (hex) of `bytes`: a block's address in the suite. */
export function addressOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A complete, plausible manifest for `jobId`/`snapshotId`, taken at `takenAt`. */
export function sampleManifest(
  jobId: string,
  snapshotId: string,
  takenAt: Date,
  overrides: Partial<SnapshotManifest> = {},
): SnapshotManifest {
  const chunk = addressOf(Buffer.from(`${jobId}/${snapshotId}/chunk`));
  return {
    format: 1,
    jobId,
    syncId: `${jobId}-s1`,
    snapshotId,
    opTime: { t: 2 ** 31 + 17, i: 4_000_000_000 },
    opWallTime: new Date(takenAt.getTime() - 1_000),
    takenAt,
    store: 'filesystem',
    codec: 'zstd',
    chunking: { algorithm: 'fastcdc', minSize: 65_536, avgSize: 262_144, maxSize: 1_048_576 },
    namespaces: [
      {
        namespace: 'shop.orders',
        documentCount: 3,
        logicalBytes: 300,
        contentHash: addressOf(Buffer.from('content')),
        options: { capped: true, size: 1_048_576, validator: { $jsonSchema: { required: ['sku'] } } },
        indexes: [
          { key: { _id: 1 }, name: '_id_', v: 2 },
          { key: { 'items.sku': 1, at: -1 }, name: 'items.sku_1_at_-1', unique: true },
        ],
        chunks: [{ address: chunk, length: 300 }],
      },
    ],
    logicalBytes: 300,
    storedBytes: 120,
    referencedBytes: 120,
    ...overrides,
  };
}

export function sampleRecord(
  jobId: string,
  snapshotId: string,
  takenAt: Date,
  state: SnapshotState = 'complete',
): SnapshotRecord {
  const manifest =
    state === 'complete'
      ? sampleManifest(jobId, snapshotId, takenAt, { completedAt: new Date(takenAt.getTime() + 5_000) })
      : sampleManifest(jobId, snapshotId, takenAt);
  return state === 'failed' ? { state, reason: 'head source went away', manifest } : { state, manifest };
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const a of it) out.push(a);
  return out.sort();
}

function bytesEqual(actual: Uint8Array, expected: Uint8Array, message: string): void {
  assert.equal(actual.length, expected.length, `${message}: length`);
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${message}: bytes differ`);
}

/**
 * Runs the contract against stores made by `makeStore`. `options.largeBlockTimeoutMs` bounds the 20 MiB block's
 * test (default 120 s).
 */
export function describeSnapshotStore(
  name: string,
  makeStore: () => Promise<SnapshotStoreUnderTest>,
  options: { largeBlockTimeoutMs?: number } = {},
): void {
  const withStore = (fn: (s: SnapshotStore) => Promise<void>) => async () => {
    const { store, close } = await makeStore();
    try {
      await fn(store);
    } finally {
      await close();
    }
  };

  describe(`SnapshotStore contract: ${name}`, () => {
    describe('blocks', () => {
      it(
        'puts, finds, reads and deletes a block',
        withStore(async (s) => {
          const bytes = Buffer.from('a compressed chunk');
          const a = addressOf(bytes);
          assert.equal(await s.hasBlock('j1', a), false);
          await s.putBlock('j1', a, bytes);
          assert.equal(await s.hasBlock('j1', a), true);
          bytesEqual(await s.getBlock('j1', a), bytes, 'read back');
          await s.deleteBlock('j1', a);
          assert.equal(await s.hasBlock('j1', a), false);
          await s.deleteBlock('j1', a); // deleting a missing block is fine
          await assert.rejects(s.getBlock('j1', a), BlockMissingError);
        }),
      );

      it(
        'deletes many blocks at once, reporting their bytes, and only those',
        withStore(async (s) => {
          const blocks = Array.from({ length: 6 }, (_, k) => Buffer.alloc(500 + 100 * k, k + 1));
          // Grouped (an s3 pack) and alone (a block of its own); in two jobs.
          await s.putBlocks(
            'j1',
            blocks.slice(0, 4).map((bytes) => ({ address: addressOf(bytes), bytes })),
          );
          await s.putBlock('j1', addressOf(blocks[4]!), blocks[4]!);
          await s.putBlock('j2', addressOf(blocks[0]!), blocks[0]!);
          const doomed = [blocks[0]!, blocks[2]!, blocks[4]!];
          const never = addressOf(Buffer.from('never stored'));
          const { bytes } = await s.deleteBlocks('j1', [...doomed.map(addressOf), never]);
          assert.equal(
            bytes,
            500 + 700 + 900,
            'the bytes of the blocks deleted (none for the unknown address)',
          );
          for (const b of doomed) assert.equal(await s.hasBlock('j1', addressOf(b)), false);
          for (const b of [blocks[1]!, blocks[3]!])
            bytesEqual(await s.getBlock('j1', addressOf(b)), b, 'kept');
          bytesEqual(await s.getBlock('j2', addressOf(blocks[0]!)), blocks[0]!, "the other job's");
          assert.deepEqual((await s.deleteBlocks('j1', [])).bytes, 0);
          assert.deepEqual(
            (await s.deleteBlocks('j1', [addressOf(blocks[1]!), addressOf(blocks[3]!)])).bytes,
            600 + 800,
          );
          const left: string[] = [];
          for await (const a of s.listBlocks('j1')) left.push(a);
          assert.deepEqual(left, []);
        }),
      );

      it(
        'keeps no view on the bytes it was given once a put resolved (the caller reuses or frees them)',
        withStore(async (s) => {
          const made = (n: number, fill: number) => Uint8Array.from(randomBytes(n), (b) => b ^ fill);
          const group = Array.from({ length: 4 }, (_, k) => made(3000 + k, k));
          const lone = made(5000, 9);
          const copies = [...group, lone].map((b) => Buffer.from(b));
          await s.putBlocks(
            'j1',
            group.map((bytes) => ({ address: addressOf(bytes), bytes })),
          );
          await s.putBlock('j1', addressOf(lone), lone);
          for (const bytes of [...group, lone]) {
            bytes.fill(0);
            assert.equal(discardBuffer(bytes), true);
          }
          for (const copy of copies)
            bytesEqual(await s.getBlock('j1', addressOf(copy)), copy, 'stored as given');
        }),
      );

      it(
        'keeps the first bytes when an existing address is put again',
        withStore(async (s) => {
          const first = Buffer.from('first bytes');
          const a = addressOf(first);
          await s.putBlock('j1', a, first);
          await s.putBlock('j1', a, Buffer.from('other bytes, longer than the first'));
          bytesEqual(await s.getBlock('j1', a), first, 'first bytes kept');
          assert.deepEqual(await collect(s.listBlocks('j1')), [a]);
        }),
      );

      it(
        'puts and finds many blocks at once, keeping the bytes of those already there, per job',
        withStore(async (s) => {
          const old = Buffer.from('stored before the batch');
          const fresh = Array.from({ length: 20 }, (_, k) => Buffer.from(`batch block ${k}`));
          const a = (b: Buffer) => addressOf(b);
          await s.putBlock('j1', a(old), old);
          assert.deepEqual(await s.hasBlocks('j1', []), new Set());
          assert.deepEqual(await s.hasBlocks('j1', [a(old), ...fresh.map(a)]), new Set([a(old)]));
          await s.putBlocks('j1', [
            { address: a(old), bytes: Buffer.from('other bytes under the old address') },
            ...fresh.map((bytes) => ({ address: a(bytes), bytes })),
          ]);
          bytesEqual(await s.getBlock('j1', a(old)), old, 'first bytes kept');
          for (const bytes of fresh)
            bytesEqual(await s.getBlock('j1', a(bytes)), bytes, 'batch block read back');
          assert.deepEqual(
            await s.hasBlocks('j1', [a(old), ...fresh.map(a)]),
            new Set([a(old), ...fresh.map(a)]),
          );
          assert.deepEqual(await s.hasBlocks('j2', [a(old)]), new Set(), 'nothing crosses jobs');
          // A batch whose blocks are all there already changes nothing.
          await s.putBlocks('j1', [{ address: a(old), bytes: Buffer.from('again') }]);
          bytesEqual(await s.getBlock('j1', a(old)), old, 'still the first bytes');
          assert.equal((await collect(s.listBlocks('j1'))).length, 21);
        }),
      );

      it(
        'throws BlockMissingError naming the job, the address and where it should be',
        withStore(async (s) => {
          const a = addressOf(Buffer.from('never written'));
          const err = await s.getBlock('j1', a).then(
            () => assert.fail('getBlock of a missing block must throw'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof BlockMissingError, String(err));
          assert.equal(err.jobId, 'j1');
          assert.equal(err.address, a);
          assert.equal(err.location, s.blockLocation('j1', a));
          assert.equal(err.retriable, false);
          assert.ok(s.blockLocation('j1', a).includes(a), 'the location names the address');
        }),
      );

      it(
        'lists the blocks of each job only',
        withStore(async (s) => {
          const blocks = ['b1', 'b2', 'b3'].map((t) => Buffer.from(t));
          const [a1, a2, a3] = blocks.map(addressOf) as [string, string, string];
          for (const b of blocks) await s.putBlock('j1', addressOf(b), b);
          await s.putBlock('j2', a2, blocks[1] as Buffer);
          assert.deepEqual(await collect(s.listBlocks('j1')), [a1, a2, a3].sort());
          assert.deepEqual(await collect(s.listBlocks('j2')), [a2]);
          assert.deepEqual(await collect(s.listBlocks('j3')), []);
          assert.equal(await s.hasBlock('j2', a1), false, 'a block of j1 is not a block of j2');
          await assert.rejects(s.getBlock('j2', a1), BlockMissingError);
          await s.deleteBlock('j2', a2);
          assert.equal(await s.hasBlock('j1', a2), true, "deleting j2's block keeps j1's");
          assert.deepEqual(await collect(s.listBlocks('j2')), []);
        }),
      );

      it(
        'keeps every byte value, and the empty block',
        withStore(async (s) => {
          const all = Buffer.alloc(256 * 4);
          for (let k = 0; k < all.length; k++) all[k] = k % 256;
          const empty = new Uint8Array(0);
          await s.putBlock('j1', addressOf(all), all);
          await s.putBlock('j1', addressOf(empty), empty);
          bytesEqual(await s.getBlock('j1', addressOf(all)), all, 'all byte values');
          bytesEqual(await s.getBlock('j1', addressOf(empty)), empty, 'empty block');
          assert.equal(await s.hasBlock('j1', addressOf(empty)), true);
          assert.deepEqual(await collect(s.listBlocks('j1')), [addressOf(all), addressOf(empty)].sort());
        }),
      );

      it(
        'keeps a 20 MiB block exactly',
        { timeout: options.largeBlockTimeoutMs ?? 120_000 },
        withStore(async (s) => {
          const big = randomBytes(20 * 1024 * 1024);
          const a = addressOf(big);
          await s.putBlock('j1', a, big);
          const back = await s.getBlock('j1', a);
          assert.equal(addressOf(back), a, 'the bytes read back hash to the address');
          bytesEqual(back, big, '20 MiB block');
          assert.deepEqual(await collect(s.listBlocks('j1')), [a]);
          await s.deleteBlock('j1', a);
          assert.equal(await s.hasBlock('j1', a), false);
        }),
      );

      it(
        'stores one block when two calls put the same address at once',
        withStore(async (s) => {
          const bytes = randomBytes(300_000);
          const a = addressOf(bytes);
          await Promise.all([s.putBlock('j1', a, bytes), s.putBlock('j1', a, bytes)]);
          bytesEqual(await s.getBlock('j1', a), bytes, 'after concurrent puts');
          assert.deepEqual(await collect(s.listBlocks('j1')), [a]);
        }),
      );
    });

    describe('snapshot records', () => {
      it(
        'puts, gets, lists newest first and deletes records',
        withStore(async (s) => {
          const t0 = Date.parse('2026-11-30T10:00:00.000Z');
          const r1 = sampleRecord('j1', 'j1-snap-1', new Date(t0));
          const r2 = sampleRecord('j1', 'j1-snap-2', new Date(t0 + 3_600_000));
          const r3 = sampleRecord('j1', 'j1-snap-3', new Date(t0 + 1_800_000), 'failed');
          const other = sampleRecord('j2', 'j2-snap-1', new Date(t0 + 9_000_000));
          assert.equal(await s.getSnapshot('j1', 'j1-snap-1'), undefined);
          assert.deepEqual(await s.listSnapshots('j1'), []);
          for (const r of [r1, r2, r3, other]) await s.putSnapshot(r);
          assert.deepEqual(await s.getSnapshot('j1', 'j1-snap-1'), r1);
          assert.deepEqual(await s.getSnapshot('j1', 'j1-snap-3'), r3);
          assert.equal(await s.getSnapshot('j2', 'j1-snap-1'), undefined, 'records are per job');
          assert.deepEqual(await s.listSnapshots('j1'), [r2, r3, r1]);
          assert.deepEqual(await s.listSnapshots('j2'), [other]);
          await s.deleteSnapshot('j1', 'j1-snap-3');
          await s.deleteSnapshot('j1', 'j1-snap-3'); // deleting a missing record is fine
          assert.equal(await s.getSnapshot('j1', 'j1-snap-3'), undefined);
          assert.deepEqual(await s.listSnapshots('j1'), [r2, r1]);
          assert.deepEqual(await s.listSnapshots('j2'), [other]);
        }),
      );

      it(
        'replaces an in-progress record by the complete one',
        withStore(async (s) => {
          const takenAt = new Date('2026-11-30T12:00:00.000Z');
          const started = sampleRecord('j1', 'j1-snap-1', takenAt, 'in-progress');
          await s.putSnapshot(started);
          assert.deepEqual(await s.getSnapshot('j1', 'j1-snap-1'), started);
          const done = sampleRecord('j1', 'j1-snap-1', takenAt, 'complete');
          await s.putSnapshot(done);
          assert.deepEqual(await s.getSnapshot('j1', 'j1-snap-1'), done);
          assert.deepEqual(await s.listSnapshots('j1'), [done]);
        }),
      );

      it(
        'keeps a manifest exactly: dates, positions, options, optional fields',
        withStore(async (s) => {
          const takenAt = new Date('2026-12-01T00:00:00.123Z');
          const manifest = sampleManifest('j1', 'j1-snap-9', takenAt, {
            completedAt: new Date('2026-12-01T00:01:02.456Z'),
            encryption: { algorithm: 'aes-256-gcm', keyId: 'key-7' },
            opTime: { t: 4_294_967_295, i: 4_294_967_295 },
          });
          const record: SnapshotRecord = { state: 'complete', manifest };
          await s.putSnapshot(record);
          const back = await s.getSnapshot('j1', 'j1-snap-9');
          assert.deepEqual(back, record);
          assert.ok(back?.manifest.takenAt instanceof Date);
          assert.ok(back?.manifest.completedAt instanceof Date);
          const bare = sampleManifest('j1', 'j1-snap-10', takenAt);
          const { opWallTime: _dropped, ...withoutWallTime } = bare;
          await s.putSnapshot({ state: 'in-progress', manifest: withoutWallTime });
          const bareBack = await s.getSnapshot('j1', 'j1-snap-10');
          assert.deepEqual(bareBack, { state: 'in-progress', manifest: withoutWallTime });
          assert.equal('opWallTime' in (bareBack?.manifest ?? {}), false, 'an absent field stays absent');
          assert.equal('reason' in (bareBack ?? {}), false);
        }),
      );
    });

    describe("the job's snapshot lock", () => {
      it(
        'is held by one owner at a time; the holder extends it',
        withStore(async (s) => {
          const g = await s.acquireLock('j1', 'snapshotter-a', 60_000);
          assert.ok(g);
          assert.equal(g.jobId, 'j1');
          assert.equal(g.owner, 'snapshotter-a');
          assert.ok(g.expiresAt.getTime() > Date.now() + 50_000);
          assert.equal(await s.acquireLock('j1', 'groomer-b', 60_000), undefined);
          const again = await s.acquireLock('j1', 'snapshotter-a', 120_000);
          assert.ok(again, 'the holder takes it again');
          assert.ok(again.expiresAt.getTime() > g.expiresAt.getTime(), 'and extends it');
          const renewed = await s.renewLock('j1', 'snapshotter-a', 180_000);
          assert.ok(renewed);
          assert.ok(renewed.expiresAt.getTime() > again.expiresAt.getTime());
          assert.ok(await s.acquireLock('j2', 'groomer-b', 60_000), "another job's lock is separate");
        }),
      );

      it(
        'lets another owner take an expired lock; the old holder cannot renew it',
        withStore(async (s) => {
          assert.ok(await s.acquireLock('j1', 'a', 40));
          await sleep(120);
          const taken = await s.acquireLock('j1', 'b', 60_000);
          assert.ok(taken, 'an expired lock can be taken');
          assert.equal(taken.owner, 'b');
          assert.equal(await s.renewLock('j1', 'a', 60_000), undefined, 'the lost lock is not renewed');
          assert.equal(await s.acquireLock('j1', 'a', 60_000), undefined);
          assert.equal(await s.renewLock('j9', 'a', 60_000), undefined, 'nothing to renew');
        }),
      );

      it(
        'is released only by its holder',
        withStore(async (s) => {
          await s.releaseLock('j1', 'nobody'); // nothing held: nothing happens
          assert.ok(await s.acquireLock('j1', 'a', 60_000));
          await s.releaseLock('j1', 'b');
          assert.equal(await s.acquireLock('j1', 'b', 60_000), undefined, "b's release changed nothing");
          assert.ok(await s.renewLock('j1', 'a', 60_000), 'a still holds it');
          await s.releaseLock('j1', 'a');
          assert.equal(await s.renewLock('j1', 'a', 60_000), undefined, 'released');
          assert.ok(await s.acquireLock('j1', 'b', 60_000), 'free after the release');
        }),
      );

      it(
        'grants a free or expired lock to exactly one of two concurrent acquirers',
        withStore(async (s) => {
          // TTLs long enough that a slow server cannot let the lock expire between the two calls of a pair.
          for (let round = 0; round < 3; round++) {
            const job = `jr${round}`;
            const free = await Promise.all([s.acquireLock(job, 'a', 1_500), s.acquireLock(job, 'b', 1_500)]);
            assert.equal(free.filter((g) => g !== undefined).length, 1, `free lock, round ${round}`);
            await sleep(1_700);
            const expired = await Promise.all([
              s.acquireLock(job, 'c', 60_000),
              s.acquireLock(job, 'd', 60_000),
            ]);
            const winners = expired.filter((g) => g !== undefined);
            assert.equal(winners.length, 1, `expired lock, round ${round}`);
            const loser = winners[0]?.owner === 'c' ? 'd' : 'c';
            assert.equal(await s.renewLock(job, loser, 60_000), undefined);
            assert.ok(await s.renewLock(job, winners[0]?.owner ?? '', 60_000));
          }
        }),
      );
    });

    it(
      'deleteJob removes the blocks, records and lock of that job only',
      withStore(async (s) => {
        const t = new Date('2026-11-30T10:00:00.000Z');
        const b = Buffer.from('shared bytes');
        const a = addressOf(b);
        for (const job of ['j1', 'j2']) {
          await s.putBlock(job, a, b);
          await s.putBlock(job, addressOf(Buffer.from(job)), Buffer.from(job));
          await s.putSnapshot(sampleRecord(job, `${job}-snap-1`, t));
          assert.ok(await s.acquireLock(job, `owner-${job}`, 60_000));
        }
        await s.deleteJob('j1');
        assert.deepEqual(await collect(s.listBlocks('j1')), []);
        assert.equal(await s.hasBlock('j1', a), false);
        assert.deepEqual(await s.listSnapshots('j1'), []);
        assert.equal(await s.getSnapshot('j1', 'j1-snap-1'), undefined);
        assert.ok(await s.acquireLock('j1', 'someone-else', 60_000), "j1's lock is gone");
        assert.deepEqual(await collect(s.listBlocks('j2')), [a, addressOf(Buffer.from('j2'))].sort());
        bytesEqual(await s.getBlock('j2', a), b, "j2's block");
        assert.deepEqual(await s.listSnapshots('j2'), [sampleRecord('j2', 'j2-snap-1', t)]);
        assert.equal(await s.acquireLock('j2', 'someone-else', 60_000), undefined, "j2's lock is kept");
        await s.deleteJob('j1'); // again: nothing left, nothing fails
        await s.deleteJob('j7'); // a job the store never saw
      }),
    );
  });
}
