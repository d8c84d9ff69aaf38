import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BufferPool } from '@tidemark/util';
import {
  Chunker,
  DEFAULT_CHUNKING,
  InvalidChunkingError,
  chunkStream,
  chunkingParams,
  cutPoint,
  type ChunkingOptions,
} from './chunker';

/** The fixture of the `fastcdc` crate's v2020 tests (fixtures/README.md says where it comes from). */
const sekien = readFileSync(path.join(__dirname, 'fixtures', 'SekienAkashita.jpg'));

/** Every cut of `data` as one buffer: [gear hash, length] per chunk. */
function cuts(data: Uint8Array, options: ChunkingOptions): Array<[bigint, number]> {
  const params = chunkingParams(options);
  const out: Array<[bigint, number]> = [];
  let start = 0;
  while (start < data.length) {
    const cut = cutPoint(params, data, start, data.length);
    out.push([cut.hash, cut.length]);
    start += cut.length;
  }
  return out;
}

function chunkAll(
  data: Uint8Array,
  options: ChunkingOptions = DEFAULT_CHUNKING,
  split?: number[],
): Uint8Array[] {
  const chunker = new Chunker(options);
  const out: Uint8Array[] = [];
  let offset = 0;
  for (const size of split ?? [data.length]) {
    out.push(...chunker.push(data.subarray(offset, offset + size)));
    offset += size;
  }
  out.push(...chunker.push(data.subarray(offset)));
  out.push(...chunker.finish());
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (so a failure reproduces). */
function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let counter = 0;
  let offset = 0;
  while (offset < length) {
    const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

describe('FastCDC 2020 cut points', () => {
  // Vectors of the fastcdc crate (nlfiedler/fastcdc-rs, src/v2020/mod.rs tests): [gear hash at the cut, length].
  it('matches the published vectors for 4 KiB / 16 KiB / 64 KiB (normalization 1)', () => {
    assert.equal(sekien.length, 109466);
    assert.deepEqual(cuts(sekien, { minSize: 4096, avgSize: 16384, maxSize: 65535 }), [
      [17968276318003433923n, 21325],
      [8197189939299398838n, 17140],
      [13019990849178155730n, 28084],
      [4509236223063678303n, 18217],
      [2504464741100432583n, 24700],
    ]);
  });

  it('matches the published vectors for 8 KiB / 32 KiB / 128 KiB and 16 KiB / 64 KiB / 256 KiB', () => {
    assert.deepEqual(cuts(sekien, { minSize: 8192, avgSize: 32768, maxSize: 131072 }), [
      [15733367461443853673n, 66549],
      [6321136627705800457n, 42917],
    ]);
    assert.deepEqual(cuts(sekien, { minSize: 16384, avgSize: 65536, maxSize: 262144 }), [
      [2504464741100432583n, 109466],
    ]);
  });

  it('matches the published vectors for normalization levels 0 and 3', () => {
    assert.deepEqual(cuts(sekien, { minSize: 4096, avgSize: 16384, maxSize: 65535, normalization: 0 }), [
      [443122261039895162n, 6634],
      [15733367461443853673n, 59915],
      [10460176299449652894n, 25597],
      [6197802202431009942n, 5237],
      [6321136627705800457n, 12083],
    ]);
    assert.deepEqual(cuts(sekien, { minSize: 8192, avgSize: 16384, maxSize: 32768, normalization: 3 }), [
      [10718006254707412376n, 17350],
      [13104072099671895560n, 19911],
      [12322483109039221194n, 17426],
      [16009206469796846404n, 17519],
      [2473608525189754172n, 19940],
      [2504464741100432583n, 17320],
    ]);
  });

  it('cuts all-zero input at the maximum size', () => {
    const chunks = chunkAll(new Uint8Array(100 * 1024));
    assert.deepEqual(
      chunks.map((c) => c.length),
      [32768, 32768, 32768, 4096],
    );
  });

  it('refuses parameters out of range, naming each problem', () => {
    assert.throws(
      () => chunkingParams({ minSize: 10, avgSize: 64, maxSize: 100 }),
      (err: unknown) => {
        assert.ok(err instanceof InvalidChunkingError);
        assert.match(err.message, /minSize 10/);
        assert.match(err.message, /avgSize 64/);
        assert.match(err.message, /maxSize 100/);
        return true;
      },
    );
    assert.throws(
      () => chunkingParams({ minSize: 8192, avgSize: 4096, maxSize: 65536 }),
      InvalidChunkingError,
    );
    assert.throws(
      () => chunkingParams({ minSize: 4096, avgSize: 16384, maxSize: 65536, normalization: 4 }),
      InvalidChunkingError,
    );
  });
});

describe('Chunker (streaming)', () => {
  const data = pseudoRandom(3 * 1024 * 1024 + 12345, 1);

  it('is deterministic and covers every byte in order', () => {
    const a = chunkAll(data);
    const b = chunkAll(data);
    assert.deepEqual(a.map(sha), b.map(sha));
    assert.equal(sha(Buffer.concat(a)), sha(data));
  });

  it('keeps every chunk within min..max except the last, and averages near the target', () => {
    const chunks = chunkAll(data);
    for (const [index, chunk] of chunks.entries()) {
      assert.ok(chunk.length <= DEFAULT_CHUNKING.maxSize, `chunk ${index} is ${chunk.length} bytes`);
      if (index < chunks.length - 1) assert.ok(chunk.length >= DEFAULT_CHUNKING.minSize, `chunk ${index}`);
    }
    const average = data.length / chunks.length;
    const { avgSize } = DEFAULT_CHUNKING;
    assert.ok(average > avgSize * 0.7 && average < avgSize * 1.5, `average ${average}`);
  });

  it('gives the same chunks over arbitrary input splits as over one buffer', () => {
    const whole = chunkAll(data).map(sha);
    const splits: number[][] = [
      Array.from({ length: 3000 }, () => 1 + (data.length % 997)),
      [1, 2, 3, 65535, 65536, 65537, 262143, 262144, 262145],
      Array.from({ length: 200 }, (_, k) => (k * 7919) % 40000),
    ];
    for (const split of splits) assert.deepEqual(chunkAll(data, DEFAULT_CHUNKING, split).map(sha), whole);
    const random = randomBytes(400);
    const randomSplit = Array.from(random, (b) => b * 37);
    assert.deepEqual(chunkAll(data, DEFAULT_CHUNKING, randomSplit).map(sha), whole, `split ${randomSplit}`);
  });

  it('with a pool, lends each chunk from it: the same chunks, and a chunk given back is lent again', () => {
    const pool = new BufferPool({ minBytes: 4096, maxBytes: 32768, maxFreeBytes: 1 << 20 });
    const chunker = new Chunker(DEFAULT_CHUNKING, pool);
    const hashes: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const use = (chunk: Uint8Array) => {
      assert.ok(chunk.buffer.byteLength >= chunk.length && chunk.byteOffset === 0);
      hashes.push(sha(chunk));
      buffers.add(chunk.buffer);
      pool.give(chunk);
    };
    for (const chunk of chunker.push(data)) use(chunk);
    for (const chunk of chunker.finish()) use(chunk);
    assert.deepEqual(hashes, chunkAll(data).map(sha));
    assert.ok(buffers.size <= 4, `${hashes.length} chunks in ${buffers.size} buffers (one per size class)`);
  });

  it('chunkStream gives the chunks of an async stream', async () => {
    async function* pieces() {
      for (let offset = 0; offset < data.length; offset += 100_000)
        yield data.subarray(offset, offset + 100_000);
    }
    const streamed: string[] = [];
    for await (const chunk of chunkStream(pieces())) streamed.push(sha(chunk));
    assert.deepEqual(streamed, chunkAll(data).map(sha));
  });

  it('resynchronises after an insertion near the start: most chunks are unchanged', () => {
    const before = chunkAll(data).map(sha);
    const edited = Buffer.concat([
      data.subarray(0, 1000),
      Buffer.from('a few inserted bytes'),
      data.subarray(1000),
    ]);
    const after = chunkAll(edited).map(sha);
    const unchanged = after.filter((h) => before.includes(h)).length;
    assert.ok(unchanged >= before.length - 2, `${unchanged} of ${before.length} chunks unchanged`);
    assert.notEqual(after[0], before[0]);
  });

  it('yields lazily: one big input gives one chunk at a time', () => {
    const chunker = new Chunker();
    const iterator = chunker.push(new Uint8Array(4 * 1024 * 1024));
    const first = iterator.next();
    assert.equal(first.done, false);
    assert.equal((first.value as Uint8Array).length, DEFAULT_CHUNKING.maxSize);
    let count = 1;
    for (const _ of iterator) count++;
    assert.equal(count, (4 * 1024 * 1024) / DEFAULT_CHUNKING.maxSize);
    assert.equal([...chunker.finish()].length, 0);
  });

  it('gives nothing for empty input and one short chunk for a short input', () => {
    assert.deepEqual(chunkAll(new Uint8Array(0)), []);
    assert.deepEqual(
      chunkAll(new Uint8Array(100)).map((c) => c.length),
      [100],
    );
  });
});
