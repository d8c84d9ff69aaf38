import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SNAPSHOT_SCHEDULE } from '@tidemark/domain';
import { encodeBlock } from './block-codec';
import { DEFAULT_GROOM_GRACE_MS, DELETE_BATCH, deleteExpiredSnapshots, groom } from './groom';
import { referencedBlocks, type SnapshotManifest, type SnapshotState } from './manifest';
import { MemoryApplyFence, MemoryHeadSource } from './memory-head-source';
import { MemorySnapshotStore } from './memory-snapshot-store';
import { sealManifest } from './manifest-codec';
import { SnapshotUnavailableError, StoreLockBusyError } from './snapshot-errors';
import type { SnapshotStore } from './snapshot-store';
import { bsonDocs, sha256 } from './spec-support';
import { SnapshotTaker } from './take-snapshot';
import { verifySnapshot } from './verify-snapshot';

const JOB = 'job-1';
const SYNC = 'job-1-s1';
const HOUR = 3_600_000;

function setup() {
  let now = Date.parse('2026-12-03T12:00:00.000Z');
  const clock = () => now;
  const store = new MemorySnapshotStore(clock);
  const head = new MemoryHeadSource();
  head.setApplied(JOB, SYNC, { t: 1_800_000_000, i: 1 });
  const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(clock), store, clock });
  const take = (snapshotId: string) =>
    taker.take({
      jobId: JOB,
      syncId: SYNC,
      snapshotId,
      owner: 'snapshotter',
      encoding: { codec: 'gzip' },
      chunking: { minSize: 1024, avgSize: 4096, maxSize: 16384 },
    });
  return { store, head, take, clock, advance: (ms: number) => (now += ms) };
}

/** A record of the given state naming freshly stored blocks of its own. */
async function recordWithBlocks(
  store: MemorySnapshotStore,
  snapshotId: string,
  state: SnapshotState,
  takenAt: Date,
): Promise<string[]> {
  const addresses: string[] = [];
  const chunks = [];
  for (const k of [1, 2]) {
    const plain = Buffer.from(`${snapshotId} chunk ${k}`);
    const block = await encodeBlock(plain, { codec: 'gzip' });
    await store.putBlock(JOB, block.address, block.bytes);
    addresses.push(block.address);
    chunks.push({ address: block.address, length: plain.length });
  }
  const logicalBytes = chunks.reduce((n, c) => n + c.length, 0);
  const manifest: SnapshotManifest = {
    format: 1,
    jobId: JOB,
    syncId: SYNC,
    snapshotId,
    opTime: { t: 1, i: 1 },
    takenAt,
    store: 'filesystem',
    codec: 'gzip',
    chunking: { algorithm: 'fastcdc-2020', minSize: 1024, avgSize: 4096, maxSize: 16384 },
    namespaces: [
      {
        namespace: 'a.b',
        documentCount: 0,
        logicalBytes,
        contentHash: sha256([]),
        options: {},
        indexes: [],
        chunks,
      },
    ],
    logicalBytes,
    storedBytes: 0,
    referencedBytes: 0,
  };
  await store.putSnapshot({ state, manifest: sealManifest(manifest) });
  return addresses;
}

describe('groom', () => {
  it("deletes only the blocks no kept snapshot references; the others' snapshots still verify", async () => {
    const { store, head, take } = setup();
    const docs = bsonDocs(300, 250, 'data');
    head.setNamespace(JOB, SYNC, 'app.c', docs);
    const s1 = await take('s1');
    head.setNamespace(JOB, SYNC, 'app.c', [...docs.slice(0, 150), ...bsonDocs(150, 250, 'other', 150)]);
    const s2 = await take('s2');
    const only1 = referencedBlocks(s1.manifest);
    for (const a of referencedBlocks(s2.manifest)) only1.delete(a);
    assert.ok(only1.size > 5);
    const before = store.blockStats(JOB);
    await store.deleteSnapshot(JOB, 's1');
    const report = await groom(store, { jobId: JOB, owner: 'groomer' });
    assert.equal(report.blocksDeleted, only1.size);
    assert.equal(report.blocksListed, before.blocks);
    assert.equal(report.recordsMarked, 1);
    assert.equal(report.bytesDeleted, before.bytes - store.blockStats(JOB).bytes);
    assert.equal(report.stopped, undefined);
    for (const address of only1) assert.equal(await store.hasBlock(JOB, address), false);
    assert.equal((await verifySnapshot(store, s2)).ok, true);
    assert.equal(store.lockHolder(JOB), undefined);
    // A second run finds nothing more to delete.
    const again = await groom(store, { jobId: JOB, owner: 'groomer', measureDeleted: false });
    assert.equal(again.blocksDeleted, 0);
    assert.equal(again.bytesDeleted, undefined);
  });

  it('keeps blocks of complete and in-progress records, and of any record within the grace period', async () => {
    const { store, clock } = setup();
    const now = clock();
    const old = new Date(now - 3 * DEFAULT_GROOM_GRACE_MS);
    const complete = await recordWithBlocks(store, 'complete', 'complete', old);
    const running = await recordWithBlocks(store, 'running', 'in-progress', old);
    const failedOld = await recordWithBlocks(store, 'failed-old', 'failed', old);
    const failedNew = await recordWithBlocks(store, 'failed-new', 'failed', new Date(now - 60_000));
    const report = await groom(store, { jobId: JOB, owner: 'groomer', clock });
    assert.equal(report.blocksDeleted, 2);
    for (const a of [...complete, ...running, ...failedNew]) assert.equal(await store.hasBlock(JOB, a), true);
    for (const a of failedOld) assert.equal(await store.hasBlock(JOB, a), false);
  });

  it('never runs while a snapshot holds the lock, so blocks a snapshot reuses survive', async () => {
    const { store, head, take } = setup();
    const docs = bsonDocs(200, 250, 'data');
    head.setNamespace(JOB, SYNC, 'app.c', docs);
    await take('s1');
    // s1 is deleted: all its blocks are garbage, but s2 is about to reuse most of them.
    await store.deleteSnapshot(JOB, 's1');
    const attempts: unknown[] = [];
    const documents = head.documents.bind(head);
    head.documents = async function* (jobId, syncId, namespace) {
      let n = 0;
      for await (const doc of documents(jobId, syncId, namespace)) {
        if (n++ === 100)
          await groom(store, { jobId: JOB, owner: 'groomer' }).catch((err) => attempts.push(err));
        yield doc;
      }
    };
    const s2 = await take('s2');
    assert.equal(s2.state, 'complete');
    assert.equal(attempts.length, 1);
    assert.ok(attempts[0] instanceof StoreLockBusyError);
    assert.equal((attempts[0] as StoreLockBusyError).retriable, true);
    const report = await groom(store, { jobId: JOB, owner: 'groomer' });
    assert.equal(report.blocksDeleted, 0);
    assert.equal((await verifySnapshot(store, s2)).ok, true);
  });

  it('a snapshot cannot start while grooming holds the lock; a crashed holder’s lock expires', async () => {
    const { store, head, take, advance } = setup();
    head.setNamespace(JOB, SYNC, 'app.c', bsonDocs(10, 100, 'x'));
    await store.acquireLock(JOB, 'crashed-groomer', 60_000);
    await assert.rejects(take('s1'), SnapshotUnavailableError);
    await assert.rejects(groom(store, { jobId: JOB, owner: 'groomer' }), StoreLockBusyError);
    advance(61_000);
    assert.equal((await take('s1')).state, 'complete');
    assert.equal((await groom(store, { jobId: JOB, owner: 'groomer' })).blocksDeleted, 0);
  });

  it('stops sweeping when its lock is lost (checked before each batch), and reports it', async () => {
    const { store, clock, advance } = setup();
    const unreferenced = await failedBlocks(store, clock, 150);
    const deleteBlocks = store.deleteBlocks.bind(store);
    let calls = 0;
    store.deleteBlocks = async (jobId, addresses) => {
      if (++calls === 1) {
        advance(120_000); // the lock expires during the first batch, another holder takes it
        await store.acquireLock(JOB, 'other', 60_000);
      }
      return deleteBlocks(jobId, addresses);
    };
    const report = await groom(store, { jobId: JOB, owner: 'groomer', clock });
    assert.equal(calls, 1);
    assert.equal(report.blocksDeleted, DELETE_BATCH, 'the batch under way finished, no other began');
    assert.equal(store.blockStats(JOB).blocks, unreferenced - DELETE_BATCH);
    assert.match(report.stopped ?? '', /lock of groomer was lost/);
    assert.equal(store.lockHolder(JOB), 'other');
  });

  it('deletes in batches of DELETE_BATCH, reporting the bytes the store freed', async () => {
    const { store, clock } = setup();
    const unreferenced = await failedBlocks(store, clock, 150);
    const sizes: number[] = [];
    const deleteBlocks = store.deleteBlocks.bind(store);
    store.deleteBlocks = async (jobId, addresses) => {
      sizes.push(addresses.length);
      return deleteBlocks(jobId, addresses);
    };
    const before = store.blockStats(JOB);
    const report = await groom(store, { jobId: JOB, owner: 'groomer', clock });
    assert.deepEqual(sizes, [DELETE_BATCH, unreferenced - DELETE_BATCH]);
    assert.equal(report.blocksDeleted, unreferenced);
    assert.equal(report.bytesDeleted, before.bytes);
    assert.equal(store.blockStats(JOB).blocks, 0);
  });
});

/** `records` failed records, deleted, older than any grace period: their blocks (two each) are unreferenced. */
async function failedBlocks(
  store: MemorySnapshotStore,
  clock: () => number,
  records: number,
): Promise<number> {
  for (let k = 0; k < records; k++) {
    await recordWithBlocks(store, `f${k}`, 'failed', new Date(clock() - 10 * HOUR));
    await store.deleteSnapshot(JOB, `f${k}`);
  }
  return 2 * records;
}

describe('groom: leftovers of crashed writers', () => {
  /** The memory store, given a `sweepLeftovers` that records its calls and asks `stillHeld` `asks` times. */
  function sweeping(store: MemorySnapshotStore, asks = 1) {
    const calls: { jobId: string; olderThan: Date; held: boolean[]; lockHolder: string | undefined }[] = [];
    const swept = store as MemorySnapshotStore & {
      sweepLeftovers: NonNullable<SnapshotStore['sweepLeftovers']>;
    };
    swept.sweepLeftovers = async (jobId, options) => {
      const held: boolean[] = [];
      const call = { jobId, olderThan: options.olderThan, held, lockHolder: store.lockHolder(jobId) };
      calls.push(call);
      for (let k = 0; k < asks; k++) {
        held.push(await options.stillHeld());
        if (!held[k]) return { removed: k, bytes: 10 * k, stopped: true };
      }
      return { removed: asks, bytes: 10 * asks };
    };
    return { swept, calls };
  }

  it('sweeps after the blocks, under the lock, what is older than the grace period, and reports it', async () => {
    const { store, clock } = setup();
    await recordWithBlocks(store, 'kept', 'complete', new Date(clock() - HOUR));
    const { swept, calls } = sweeping(store, 3);
    const report = await groom(swept, { jobId: JOB, owner: 'groomer', clock, graceMs: 2 * HOUR });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.jobId, JOB);
    assert.equal(calls[0]?.olderThan.getTime(), clock() - 2 * HOUR);
    assert.equal(calls[0]?.lockHolder, 'groomer');
    assert.deepEqual(calls[0]?.held, [true, true, true]);
    assert.equal(report.leftoversRemoved, 3);
    assert.equal(report.leftoverBytes, 30);
    assert.equal(report.stopped, undefined);
    assert.equal(store.lockHolder(JOB), undefined);
  });

  it('a store without leftovers reports none', async () => {
    const { store, clock } = setup();
    const report = await groom(store, { jobId: JOB, owner: 'groomer', clock });
    assert.equal('leftoversRemoved' in report, false);
  });

  it('the sweep learns the lock was lost, stops, and the report says so', async () => {
    const { store, clock, advance } = setup();
    const { swept, calls } = sweeping(store, 2);
    const listBlocks = store.listBlocks.bind(store);
    // The lock expires while the blocks are listed, and another holder takes it.
    swept.listBlocks = async function* (jobId) {
      yield* listBlocks(jobId);
      advance(120_000);
      await store.acquireLock(JOB, 'other', 60_000);
    };
    const report = await groom(swept, { jobId: JOB, owner: 'groomer', clock });
    assert.deepEqual(calls[0]?.held, [false]);
    assert.equal(report.leftoversRemoved, 0);
    assert.match(report.stopped ?? '', /lock of groomer was lost/);
    assert.equal(store.lockHolder(JOB), 'other');
  });

  it('is not asked when the block sweep already lost the lock', async () => {
    const { store, clock, advance } = setup();
    await failedBlocks(store, clock, 150);
    const { swept, calls } = sweeping(store);
    const deleteBlocks = store.deleteBlocks.bind(store);
    swept.deleteBlocks = async (jobId, addresses) => {
      advance(120_000);
      await store.acquireLock(JOB, 'other', 60_000);
      return deleteBlocks(jobId, addresses);
    };
    const report = await groom(swept, { jobId: JOB, owner: 'groomer', clock });
    assert.equal(calls.length, 0);
    assert.match(report.stopped ?? '', /lock of groomer was lost/);
  });
});

describe('deleteExpiredSnapshots', () => {
  it('deletes the records retention expires, not their blocks', async () => {
    const { store, clock } = setup();
    const now = clock();
    const blocks = await recordWithBlocks(store, 'old', 'complete', new Date(now - 400 * 24 * HOUR));
    await recordWithBlocks(store, 'new', 'complete', new Date(now - HOUR));
    const decision = await deleteExpiredSnapshots(
      store,
      JOB,
      DEFAULT_SNAPSHOT_SCHEDULE.retention,
      new Date(now),
    );
    assert.deepEqual(
      decision.expire.map((e) => e.snapshotId),
      ['old'],
    );
    assert.deepEqual(
      (await store.listSnapshots(JOB)).map((r) => r.manifest.snapshotId),
      ['new'],
    );
    assert.equal(await store.hasBlock(JOB, blocks[0] as string), true);
  });
});
