import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { EncryptionKey } from './block-codec';
import { MemoryApplyFence, MemoryHeadSource } from './memory-head-source';
import { MemorySnapshotStore } from './memory-snapshot-store';
import type { SnapshotManifest } from './manifest';
import { sealManifest } from './manifest-codec';
import { BLOCK_READ_BATCH, DocumentSplitter, readChunks, readNamespace } from './read-snapshot';
import {
  BlockDamagedError,
  BlockMissingError,
  EncryptionKeyError,
  SnapshotDamagedError,
} from './snapshot-errors';
import type { SnapshotRecord, SnapshotStore } from './snapshot-store';
import { bsonDoc, bsonDocs } from './spec-support';
import { SnapshotTaker } from './take-snapshot';
import { describeVerifyReport, verifySnapshot } from './verify-snapshot';

const JOB = 'job-1';
const SYNC = 'job-1-s1';

async function snapshot(key?: EncryptionKey, orderCount = 300) {
  const store = new MemorySnapshotStore();
  const head = new MemoryHeadSource();
  const orders = bsonDocs(orderCount, 250, 'orders');
  // One document larger than several chunks.
  orders.splice(
    Math.min(150, orderCount),
    0,
    bsonDoc(100_000, 'x'.repeat(60_000) + randomBytes(20_000).toString('hex')),
  );
  head.setNamespace(JOB, SYNC, 'app.orders', orders);
  head.setNamespace(JOB, SYNC, 'app.users', bsonDocs(30, 100, 'users'));
  head.setApplied(JOB, SYNC, { t: 1_800_000_000, i: 1 });
  const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
  const record = await taker.take({
    jobId: JOB,
    syncId: SYNC,
    snapshotId: 's1',
    owner: 'o',
    encoding: { codec: 'gzip', ...(key === undefined ? {} : { key }) },
    chunking: { minSize: 1024, avgSize: 4096, maxSize: 16384 },
  });
  assert.equal(record.state, 'complete');
  return { store, record, orders };
}

async function all(iterable: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const doc of iterable) out.push(Buffer.from(doc));
  return out;
}

describe('readChunks', () => {
  it('reads up to its read-ahead of blocks at once, hands them out in order, and waits for them when stopped', async () => {
    const { store, record } = await snapshot();
    const chunks = record.manifest.namespaces.find((n) => n.namespace === 'app.orders')!.chunks;
    assert.ok(chunks.length > 12);
    let inFlight = 0;
    let most = 0;
    const getBlock = store.getBlock.bind(store);
    store.getBlock = async (jobId, address) => {
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1 + (address.charCodeAt(0) % 5)));
        return await getBlock(jobId, address);
      } finally {
        inFlight--;
      }
    };
    const indexes: number[] = [];
    for await (const read of readChunks(store, JOB, chunks, undefined, 4)) {
      assert.ok('plain' in read, String((read as { error?: unknown }).error));
      assert.equal(read.plain.length, chunks[read.index]!.length);
      indexes.push(read.index);
    }
    assert.deepEqual(
      indexes,
      chunks.map((_, k) => k),
    );
    assert.equal(most, 4, 'four blocks were read at once, never more');
    // Stopping after the first chunk leaves no read running.
    for await (const read of readChunks(store, JOB, chunks, undefined, 4)) {
      assert.equal(read.index, 0);
      break;
    }
    assert.equal(inFlight, 0);
  });

  it('hands a missing block out in its place, and goes on', async () => {
    const { store, record } = await snapshot();
    const chunks = record.manifest.namespaces.find((n) => n.namespace === 'app.users')!.chunks;
    const missing = { address: 'f'.repeat(64), length: 10 };
    const reads = [];
    for await (const read of readChunks(store, JOB, [missing, ...chunks])) reads.push(read);
    assert.equal(reads.length, chunks.length + 1);
    assert.ok('error' in reads[0]! && reads[0].error instanceof BlockMissingError);
    assert.ok(reads.slice(1).every((r) => 'plain' in r));
  });
});

describe('readChunks with a store that reads blocks in batches (getBlocks)', () => {
  /** The store, with a `getBlocks` that reads each block with `getBlock` and records the batches asked for. */
  function batching(store: MemorySnapshotStore) {
    const batches: string[][] = [];
    const withBatches = store as MemorySnapshotStore & { getBlocks: NonNullable<SnapshotStore['getBlocks']> };
    withBatches.getBlocks = async (jobId, addresses) => {
      batches.push([...addresses]);
      return Promise.all(
        addresses.map((a) =>
          store.getBlock(jobId, a).then(
            (bytes) => ({ bytes }),
            (error: unknown) => ({ error }),
          ),
        ),
      );
    };
    return { store: withBatches, batches };
  }

  it('asks for BLOCK_READ_BATCH blocks at a time, in order, and reads the namespace as one at a time does', async () => {
    const { store: plain, record, orders } = await snapshot(undefined, 1200);
    const { store, batches } = batching(plain);
    const ns = record.manifest.namespaces.find((n) => n.namespace === 'app.orders')!;
    assert.ok(ns.chunks.length > BLOCK_READ_BATCH, `${ns.chunks.length} chunks`);
    const docs = await all(readNamespace(store, record.manifest, ns));
    assert.deepEqual(
      docs,
      orders.map((d) => Buffer.from(d)),
    );
    assert.deepEqual(
      batches.flat(),
      ns.chunks.map((c) => c.address),
    );
    assert.ok(batches.slice(0, -1).every((b) => b.length === BLOCK_READ_BATCH));
    assert.ok(batches.at(-1)!.length <= BLOCK_READ_BATCH);
  });

  it('hands a block the batch could not read out in its place, and goes on', async () => {
    const { store: plain, record } = await snapshot();
    const { store } = batching(plain);
    const chunks = record.manifest.namespaces.find((n) => n.namespace === 'app.users')!.chunks;
    const missing = { address: 'f'.repeat(64), length: 10 };
    const reads = [];
    for await (const read of readChunks(store, JOB, [...chunks.slice(0, 1), missing, ...chunks.slice(1)]))
      reads.push(read);
    assert.equal(reads.length, chunks.length + 1);
    assert.ok('error' in reads[1]! && reads[1].error instanceof BlockMissingError);
    assert.ok(reads.filter((_, k) => k !== 1).every((r) => 'plain' in r));
    // A batch that fails whole: every chunk in it is handed out with that failure.
    store.getBlocks = async () => {
      throw new Error('store down');
    };
    const failed = [];
    for await (const read of readChunks(store, JOB, chunks)) failed.push(read);
    assert.equal(failed.length, chunks.length);
    assert.ok(failed.every((r) => 'error' in r && String(r.error).includes('store down')));
  });
});

describe('readNamespace', () => {
  it('gives back exactly the documents, in order, also one spanning many chunks', async () => {
    const { store, record, orders } = await snapshot();
    const docs = await all(readNamespace(store, record.manifest, 'app.orders'));
    assert.deepEqual(
      docs,
      orders.map((d) => Buffer.from(d)),
    );
    assert.equal((await all(readNamespace(store, record.manifest, 'app.users'))).length, 30);
  });

  it('reads encrypted snapshots with their key only', async () => {
    const key: EncryptionKey = { keyId: 'k1', key: randomBytes(32) };
    const { store, record, orders } = await snapshot(key);
    assert.equal((await all(readNamespace(store, record.manifest, 'app.orders', key))).length, orders.length);
    await assert.rejects(
      all(readNamespace(store, record.manifest, 'app.orders')),
      /encrypted under key k1; no key/,
    );
    await assert.rejects(
      all(readNamespace(store, record.manifest, 'app.orders', { keyId: 'k2', key: randomBytes(32) })),
      (err: unknown) => err instanceof EncryptionKeyError && /not k2/.test(err.message),
    );
    // Same id, wrong key bytes: the blocks do not authenticate.
    await assert.rejects(
      all(readNamespace(store, record.manifest, 'app.orders', { keyId: 'k1', key: randomBytes(32) })),
      BlockDamagedError,
    );
  });

  it('stops at a damaged or missing block, naming it and where it is', async () => {
    const { store, record } = await snapshot();
    const chunk = record.manifest.namespaces[0]?.chunks[3];
    assert.ok(chunk !== undefined);
    store.damageBlock(JOB, chunk.address, (b) => b.subarray(0, b.length - 3));
    await assert.rejects(all(readNamespace(store, record.manifest, 'app.orders')), (err: unknown) => {
      assert.ok(err instanceof BlockDamagedError);
      assert.equal(err.address, chunk.address);
      assert.equal(err.location, store.blockLocation(JOB, chunk.address));
      return true;
    });
    await store.deleteBlock(JOB, chunk.address);
    await assert.rejects(all(readNamespace(store, record.manifest, 'app.orders')), BlockMissingError);
  });

  it('refuses a manifest whose sound blocks do not make the namespace it describes', async () => {
    const { store, record } = await snapshot();
    const ns = record.manifest.namespaces[1];
    assert.ok(ns !== undefined);
    const wrongCount = { ...record.manifest, namespaces: [{ ...ns, documentCount: 31 }] };
    await assert.rejects(
      all(readNamespace(store, wrongCount, 'app.users')),
      /30 documents, the manifest says 31/,
    );
    const wrongHash = { ...record.manifest, namespaces: [{ ...ns, contentHash: '0'.repeat(64) }] };
    await assert.rejects(all(readNamespace(store, wrongHash, 'app.users')), SnapshotDamagedError);
    const cut = { ...record.manifest, namespaces: [{ ...ns, chunks: ns.chunks.slice(0, 1) }] };
    await assert.rejects(all(readNamespace(store, cut, 'app.users')), /bytes after the last whole document/);
    await assert.rejects(all(readNamespace(store, record.manifest, 'app.nope')), /not in the snapshot/);
  });
});

describe('DocumentSplitter', () => {
  it('splits documents across any chunk boundaries and refuses bad framing', () => {
    const docs = bsonDocs(20, 50, 'split');
    const bytes = Buffer.concat(docs);
    for (const step of [1, 3, 7, 64, 1000]) {
      const splitter = new DocumentSplitter();
      const out: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += step)
        out.push(...splitter.push(bytes.subarray(at, at + step)));
      assert.deepEqual(
        out.map((d) => Buffer.from(d)),
        docs.map((d) => Buffer.from(d)),
      );
      assert.equal(splitter.leftover, 0);
    }
    assert.throws(
      () => new DocumentSplitter().push(Buffer.from([1, 0, 0, 0, 0])),
      /length prefix of 1 bytes/,
    );
    assert.throws(() => new DocumentSplitter().push(Buffer.from([5, 0, 0, 0, 1])), /does not end with 0x00/);
  });
});

describe('verifySnapshot', () => {
  it('passes a sound snapshot, reading every block, and changes nothing', async () => {
    const { store, record } = await snapshot();
    const before = store.blockStats(JOB);
    const report = await verifySnapshot(store, { jobId: JOB, snapshotId: 's1' });
    assert.equal(report.ok, true, describeVerifyReport(report).join('\n'));
    const chunks = record.manifest.namespaces.reduce((n, ns) => n + ns.chunks.length, 0);
    assert.equal(report.blocksRead, chunks);
    assert.equal(report.bytesRead, record.manifest.logicalBytes);
    assert.deepEqual(
      report.namespaces.map((n) => [n.namespace, n.documentCount]),
      [
        ['app.orders', 301],
        ['app.users', 30],
      ],
    );
    assert.match(describeVerifyReport(report)[0] ?? '', /: ok \(/);
    assert.deepEqual(store.blockStats(JOB), before);
  });

  it('names each damaged and missing block: namespace, chunk index, address, location', async () => {
    const { store, record } = await snapshot();
    const orders = record.manifest.namespaces[0];
    const users = record.manifest.namespaces[1];
    assert.ok(orders !== undefined && users !== undefined);
    const flipped = orders.chunks[5]?.address as string;
    const missing = users.chunks[0]?.address as string;
    store.damageBlock(JOB, flipped, (b) => {
      b[b.length - 20] = (b[b.length - 20] as number) ^ 0xff;
      return b;
    });
    await store.deleteBlock(JOB, missing);
    const before = store.blockStats(JOB);
    const report = await verifySnapshot(store, record);
    assert.equal(report.ok, false);
    const first = orders.chunks.findIndex((c) => c.address === flipped);
    assert.deepEqual(
      report.damage.map((d) => [d.namespace, d.chunkIndex, d.address, d.location, d.kind]),
      [
        ['app.orders', first, flipped, store.blockLocation(JOB, flipped), 'damaged'],
        ['app.users', 0, missing, store.blockLocation(JOB, missing), 'missing'],
      ],
    );
    const lines = describeVerifyReport(report);
    assert.match(lines[0] ?? '', /DAMAGED/);
    assert.ok(lines.some((l) => l.includes(`app.orders chunk ${first}: block ${flipped} damaged`)));
    assert.deepEqual(store.blockStats(JOB), before, 'verify repairs nothing');
  });

  it('checks the manifest: checksum, fields, state, and the namespace hash and count', async () => {
    const { store, record } = await snapshot();
    const users = record.manifest.namespaces[1];
    assert.ok(users !== undefined);
    const edited: SnapshotManifest = {
      ...record.manifest,
      namespaces: [
        record.manifest.namespaces[0] as SnapshotManifest['namespaces'][0],
        { ...users, documentCount: 29 },
      ],
    };
    const tampered = await verifySnapshot(store, { state: 'complete', manifest: edited });
    assert.match(tampered.manifestProblems.join(), /checksum: manifest hashes to/);
    const resealed = await verifySnapshot(store, { state: 'complete', manifest: sealManifest(edited) });
    assert.deepEqual(resealed.manifestProblems, []);
    assert.deepEqual(resealed.namespaces[1]?.problems, ['30 documents, the manifest says 29']);
    assert.equal(resealed.ok, false);
    const inProgress: SnapshotRecord = { state: 'in-progress', manifest: record.manifest };
    assert.deepEqual((await verifySnapshot(store, inProgress)).manifestProblems, [
      'state is in-progress, not complete',
    ]);
    await assert.rejects(verifySnapshot(store, { jobId: JOB, snapshotId: 'nope' }), /has no snapshot nope/);
  });
});
