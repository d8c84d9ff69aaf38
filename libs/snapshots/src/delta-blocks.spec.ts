import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  BLOCK_HEADER_BYTES,
  decodeBlock,
  encodeBlock,
  encodeDeltaBlock,
  readBlockHeader,
  type EncryptionKey,
} from './block-codec';
import { groom } from './groom';
import { referencedBlocks, type BlockCodec, type ChunkRef, type SnapshotManifest } from './manifest';
import { decodeManifest, encodeManifest, validateManifest } from './manifest-codec';
import { MemoryApplyFence, MemoryHeadSource } from './memory-head-source';
import { MemorySnapshotStore } from './memory-snapshot-store';
import { readNamespace } from './read-snapshot';
import { BlockDamagedError } from './snapshot-errors';
import { bsonDocs, sha256 } from './spec-support';
import { SnapshotTaker } from './take-snapshot';
import { verifySnapshot } from './verify-snapshot';

const JOB = 'job-1';
const SYNC = 'job-1-s1';
const KEY: EncryptionKey = { keyId: 'k1', key: randomBytes(32) };

/** A chunk of documents, and the same chunk with one document in the middle rewritten (same size). */
function chunkAndEdit(): { base: Buffer; edited: Buffer } {
  const docs = bsonDocs(40, 400, 'delta');
  const base = Buffer.concat(docs);
  const changed = [...docs];
  changed[20] = bsonDocs(1, 400, 'changed', 20)[0] as Uint8Array;
  return { base, edited: Buffer.concat(changed) };
}

async function rejectsDamaged(promise: Promise<unknown>, address: string, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BlockDamagedError, String(err));
    assert.equal(err.address, address);
    assert.match(err.reason, reason);
    return true;
  });
}

describe('delta blocks', () => {
  for (const key of [undefined, KEY]) {
    const label = key === undefined ? 'plain' : 'encrypted';
    for (const codec of ['brotli', 'gzip'] as const) {
      it(`${label}, ${codec}: a chunk with one document changed is a small delta of its base and decodes exactly`, async () => {
        const { base, edited } = chunkAndEdit();
        const full = await encodeBlock(base, { codec, ...(key ? { key } : {}) });
        assert.equal(readBlockHeader(full.bytes, full.address).codec, codec);
        const delta = await encodeDeltaBlock(
          edited,
          { address: full.address, plain: base },
          { codec, ...(key ? { key } : {}) },
        );
        const header = readBlockHeader(delta.bytes, delta.address);
        assert.equal(header.base, full.address);
        assert.equal(header.plainLength, edited.length);
        assert.equal(header.encrypted, key !== undefined);
        // About one document's worth, not the chunk's (a full block of this chunk is ~half its 16 KB).
        assert.ok(
          delta.bytes.length < full.bytes.length / 5,
          `${delta.bytes.length} vs ${full.bytes.length}`,
        );
        const plain = await decodeBlock(
          delta.bytes,
          delta.address,
          key,
          {},
          { address: full.address, plain: base },
        );
        assert.deepEqual(Buffer.from(plain), edited);
      });
    }

    it(`${label}: a delta without its base, with another base, or with any byte flipped is damaged`, async () => {
      const { base, edited } = chunkAndEdit();
      const encoding = { codec: 'gzip' as const, ...(key ? { key } : {}) };
      const full = await encodeBlock(base, encoding);
      const other = await encodeBlock(edited.subarray(0, 8000), encoding);
      const delta = await encodeDeltaBlock(edited, { address: full.address, plain: base }, encoding);
      const good = { address: full.address, plain: base };
      await rejectsDamaged(decodeBlock(delta.bytes, delta.address, key), delta.address, /no base was given/);
      await rejectsDamaged(
        decodeBlock(delta.bytes, delta.address, key, {}, { address: other.address, plain: base }),
        delta.address,
        /a delta of block [0-9a-f]{64}, not of/,
      );
      // The right address with the wrong bytes: the preset dictionary's check (or the address) catches it.
      await rejectsDamaged(
        decodeBlock(delta.bytes, delta.address, key, {}, { address: full.address, plain: edited }),
        delta.address,
        /./,
      );
      for (let at = 0; at < delta.bytes.length; at++) {
        const bytes = Buffer.from(delta.bytes);
        bytes[at] = (bytes[at] as number) ^ 0x10;
        // The last deflate byte (before zlib's 4-byte Adler-32) may end in unused padding bits, which change
        // nothing the block decodes to (block-codec.ts says so); the bytes decoded must then be exactly the chunk.
        if (key === undefined && at === delta.bytes.length - 5) {
          const decoded = await decodeBlock(bytes, delta.address, key, {}, good).catch(() => edited);
          assert.deepEqual(Buffer.from(decoded), edited);
          continue;
        }
        await rejectsDamaged(decodeBlock(bytes, delta.address, key, {}, good), delta.address, /./);
      }
    });
  }

  it('refuses a delta for codec none, against itself, or against a base larger than the window', async () => {
    const { base, edited } = chunkAndEdit();
    const full = await encodeBlock(base, { codec: 'gzip' });
    await assert.rejects(
      encodeDeltaBlock(edited, { address: full.address, plain: base }, { codec: 'none' }),
      /need a compressed codec \(brotli or gzip\), not none/,
    );
    await assert.rejects(
      encodeDeltaBlock(base, { address: full.address, plain: base }, { codec: 'gzip' }),
      /its own delta base/,
    );
    await assert.rejects(
      encodeDeltaBlock(edited, { address: full.address, plain: Buffer.alloc(40_000) }, { codec: 'gzip' }),
      /delta base of 40000 bytes/,
    );
    // A header naming the block itself as base is damage.
    const delta = await encodeDeltaBlock(edited, { address: full.address, plain: base }, { codec: 'gzip' });
    const self = Buffer.from(delta.bytes);
    self.write(delta.address, BLOCK_HEADER_BYTES, 'hex');
    assert.throws(() => readBlockHeader(self, delta.address), /names itself as its delta base/);
  });
});

describe('manifests with delta bases', () => {
  const chunk = (address: string, base?: string): ChunkRef => ({
    address,
    length: 100,
    storedLength: 40,
    ...(base === undefined ? {} : { base, baseStoredLength: 60 }),
  });
  const manifest = (format: number, chunks: ChunkRef[]): SnapshotManifest => ({
    format,
    jobId: JOB,
    syncId: SYNC,
    snapshotId: 's1',
    opTime: { t: 10, i: 1 },
    takenAt: new Date('2026-12-04T00:00:00.000Z'),
    store: 'filesystem',
    codec: 'gzip',
    chunking: { algorithm: 'fastcdc-2020', minSize: 4096, avgSize: 16384, maxSize: 32768, normalization: 2 },
    namespaces: [
      {
        namespace: 'app.c',
        documentCount: 1,
        logicalBytes: 100 * chunks.length,
        contentHash: 'a'.repeat(64),
        options: {},
        indexes: [],
        chunks,
      },
    ],
    logicalBytes: 100 * chunks.length,
    storedBytes: 0,
    referencedBytes: 0,
  });
  const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];

  it('round-trip bases in format 2 and name them among the blocks a snapshot needs', () => {
    const m = manifest(2, [chunk(a), chunk(b, c)]);
    const back = decodeManifest(encodeManifest(m));
    assert.deepEqual(back.namespaces[0]?.chunks, m.namespaces[0]?.chunks);
    assert.deepEqual([...referencedBlocks(back)].sort(), [a, b, c]);
  });

  it('refuse a base in format 1, a base that is the chunk itself, and a base that is not an address', () => {
    assert.match(validateManifest(manifest(1, [chunk(b, c)])).join('\n'), /chunks\[0\]\.base: unknown field/);
    assert.match(
      validateManifest(manifest(2, [chunk(b, b)])).join('\n'),
      /base: must not be the chunk itself/,
    );
    assert.match(
      validateManifest(manifest(2, [chunk(b, 'xyz')])).join('\n'),
      /base: must be 64 lowercase hex/,
    );
    // Format 1 manifests without bases still read.
    assert.equal(decodeManifest(encodeManifest(manifest(1, [chunk(a)]))).format, 1);
  });
});

describe('snapshots with delta blocks', () => {
  function setup(key?: EncryptionKey) {
    const clock = () => Date.parse('2026-12-04T12:00:00.000Z');
    const head = new MemoryHeadSource();
    const store = new MemorySnapshotStore(clock);
    const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(clock), store, clock });
    let docs = bsonDocs(2000, 500, 'base');
    head.setNamespace(JOB, SYNC, 'app.c', docs);
    head.setApplied(JOB, SYNC, { t: 10, i: 1 });
    return {
      store,
      docs: () => docs,
      /** Rewrites `count` documents spread over the namespace (same size each). */
      change(count: number, round: number) {
        docs = [...docs];
        for (let k = 0; k < count; k++) {
          const id = Math.floor(((k + 0.5) * docs.length) / count);
          docs[id] = bsonDocs(1, 500, `round${round}`, id)[0] as Uint8Array;
        }
        head.setNamespace(JOB, SYNC, 'app.c', docs);
      },
      /** Adds `count` new documents at the end (new chunks, with nothing to be a delta of). */
      append(count: number, round: number) {
        docs = [...docs, ...bsonDocs(count, 500, `append${round}`, docs.length)];
        head.setNamespace(JOB, SYNC, 'app.c', docs);
      },
      take: (snapshotId: string, codec: BlockCodec = 'gzip') =>
        taker.take({
          jobId: JOB,
          syncId: SYNC,
          snapshotId,
          owner: 'snapshotter-a',
          encoding: { codec, ...(key ? { key } : {}) },
        }),
    };
  }

  async function readAll(store: MemorySnapshotStore, m: SnapshotManifest, key?: EncryptionKey) {
    const out: Uint8Array[] = [];
    for await (const doc of readNamespace(store, m, 'app.c', key)) out.push(doc);
    return out;
  }

  for (const key of [undefined, KEY]) {
    it(`${key ? 'encrypted' : 'plain'}: a scattered change is stored as deltas of the previous snapshot's blocks`, async () => {
      const t = setup(key);
      const s1 = await t.take('s1');
      assert.ok(s1.manifest.namespaces[0]!.chunks.every((c) => c.base === undefined));
      t.change(10, 1);
      const s2 = await t.take('s2');
      const chunks2 = s2.manifest.namespaces[0]!.chunks;
      const deltas = chunks2.filter((c) => c.base !== undefined);
      assert.ok(deltas.length >= 8 && deltas.length <= 20, `${deltas.length} delta chunks`);
      const firstBlocks = referencedBlocks(s1.manifest);
      for (const d of deltas) {
        assert.ok(firstBlocks.has(d.base!), 'a delta base is a block of the previous snapshot');
        assert.ok(d.baseStoredLength! > 0);
      }
      // 10 documents of 500 bytes changed in ~1 MB: far less than one full 16 KiB block per change.
      assert.ok(
        s2.manifest.storedBytes < s1.manifest.storedBytes * 0.05,
        `${s2.manifest.storedBytes} new of ${s1.manifest.storedBytes}`,
      );
      assert.deepEqual((await readAll(t.store, s2.manifest, key)).map(sha256), t.docs().map(sha256));
      assert.ok((await verifySnapshot(t.store, s2, key ? { key } : {})).ok);
      // A third change: deltas are always against a full block (the previous delta's base), never chains.
      t.change(7, 2);
      const s3 = await t.take('s3');
      for (const c of s3.manifest.namespaces[0]!.chunks) {
        if (c.base === undefined) continue;
        const based = await t.store.getBlock(JOB, c.base);
        assert.equal(readBlockHeader(based, c.base).base, undefined, 'a delta base is a full block');
      }
      assert.deepEqual((await readAll(t.store, s3.manifest, key)).map(sha256), t.docs().map(sha256));
    });
  }

  it('a Brotli snapshot after a gzip one (a job after an upgrade) reuses its blocks and stores changes as deltas of them', async () => {
    const t = setup();
    const s1 = await t.take('s1', 'gzip');
    t.change(10, 1);
    const s2 = await t.take('s2', 'brotli');
    assert.equal(s2.manifest.codec, 'brotli');
    const chunks2 = s2.manifest.namespaces[0]!.chunks;
    const deltas = chunks2.filter((c) => c.base !== undefined);
    assert.ok(deltas.length >= 8 && deltas.length <= 20, `${deltas.length} delta chunks`);
    const firstBlocks = referencedBlocks(s1.manifest);
    for (const d of deltas)
      assert.ok(firstBlocks.has(d.base!), 'a delta base is a block of the gzip snapshot');
    assert.ok(
      s2.manifest.storedBytes < s1.manifest.storedBytes * 0.05,
      `${s2.manifest.storedBytes} new of ${s1.manifest.storedBytes}`,
    );
    // Unchanged chunks are still the gzip blocks they were, changed ones deltas (codec byte 3, read as gzip).
    const codecs = async (chunks: readonly ChunkRef[]) => {
      const seen = new Set<string>();
      for (const c of chunks)
        seen.add(readBlockHeader(await t.store.getBlock(JOB, c.address), c.address).codec);
      return [...seen].sort();
    };
    assert.deepEqual(await codecs(chunks2), ['gzip']);
    // New data, with nothing to be a delta of, is written as Brotli blocks.
    t.change(3, 2);
    t.append(200, 2);
    const s3 = await t.take('s3', 'brotli');
    assert.deepEqual(await codecs(s3.manifest.namespaces[0]!.chunks), ['brotli', 'gzip']);
    assert.ok((await verifySnapshot(t.store, s3)).ok);
    assert.deepEqual((await readAll(t.store, s3.manifest)).map(sha256), t.docs().map(sha256));
    assert.ok((await verifySnapshot(t.store, s2)).ok);
  });

  it('grooming keeps the base of a retained delta after the snapshot that wrote the base is gone', async () => {
    const t = setup();
    const s1 = await t.take('s1');
    t.change(10, 1);
    const s2 = await t.take('s2');
    const bases = new Set(s2.manifest.namespaces[0]!.chunks.flatMap((c) => (c.base ? [c.base] : [])));
    const chunkAddresses = new Set(s2.manifest.namespaces[0]!.chunks.map((c) => c.address));
    const onlyBases = [...bases].filter((b) => !chunkAddresses.has(b));
    assert.ok(onlyBases.length > 0, 'some base is needed by s2 only as a base');
    await t.store.deleteSnapshot(JOB, 's1');
    const report = await groom(t.store, { jobId: JOB, owner: 'groomer', graceMs: 0 });
    assert.ok(
      report.blocksDeleted === 0,
      `${report.blocksDeleted} deleted: s1's blocks are all s2's or its bases`,
    );
    for (const b of onlyBases) assert.ok(await t.store.hasBlock(JOB, b));
    assert.ok((await verifySnapshot(t.store, s2)).ok);
    assert.ok(s1.manifest.snapshotId === 's1');
  });

  it('verify names a damaged base as the block at fault, for the chunk that needs it', async () => {
    const t = setup();
    await t.take('s1');
    t.change(10, 1);
    const s2 = await t.take('s2');
    const delta = s2.manifest.namespaces[0]!.chunks.findIndex((c) => c.base !== undefined);
    const base = s2.manifest.namespaces[0]!.chunks[delta]!.base!;
    t.store.damageBlock(JOB, base, (bytes) => {
      const copy = Buffer.from(bytes);
      copy[copy.length - 3] = (copy[copy.length - 3] as number) ^ 1;
      return copy;
    });
    const report = await verifySnapshot(t.store, s2);
    assert.equal(report.ok, false);
    const hit = report.damage.find((d) => d.chunkIndex === delta);
    assert.ok(hit, JSON.stringify(report.damage));
    assert.equal(hit.address, base);
    assert.equal(hit.location, t.store.blockLocation(JOB, base));
    assert.match(hit.reason, /^the delta base of [0-9a-f]{64}: /);
  });

  it('replaces a stored delta whose base is gone instead of reusing it', async () => {
    const t = setup();
    await t.take('s1');
    t.change(10, 1);
    const s2 = await t.take('s2');
    const delta = s2.manifest.namespaces[0]!.chunks.find((c) => c.base !== undefined)!;
    // A failed snapshot's leftovers after a crashed grooming: the delta is there, its base is not, no record names them.
    await t.store.deleteSnapshot(JOB, 's1');
    await t.store.deleteSnapshot(JOB, 's2');
    await t.store.deleteBlock(JOB, delta.base!);
    const s3 = await t.take('s3');
    const again = s3.manifest.namespaces[0]!.chunks.find((c) => c.address === delta.address)!;
    assert.ok(again !== undefined);
    assert.ok((await verifySnapshot(t.store, s3)).ok, 'the snapshot does not name an unreadable block');
    assert.equal(readBlockHeader(await t.store.getBlock(JOB, delta.address), delta.address).base, again.base);
  });
});
