import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, crc32, gunzipSync, inflateSync } from 'node:zlib';
import { CompressionFailedError, CompressionWorkers } from './compression-workers';

describe('CompressionWorkers', () => {
  const plain = Buffer.concat(
    [randomBytes(2000).toString('hex'), 'tidemark '.repeat(500)].map((s) => Buffer.from(s)),
  );

  it('compresses with Brotli and gzip and deflates with a preset dictionary in its workers, many calls at once', async () => {
    const workers = new CompressionWorkers(2);
    try {
      const outs = await Promise.all(
        Array.from({ length: 40 }, (_, k) => workers.gzip(plain.subarray(k), 6)),
      );
      for (const [k, out] of outs.entries()) assert.deepEqual(gunzipSync(out), plain.subarray(k));
      const brotli = await Promise.all(
        Array.from({ length: 40 }, (_, k) => workers.brotli(plain.subarray(k), 2, 16)),
      );
      for (const [k, out] of brotli.entries()) {
        assert.ok(out.length < plain.length - k, 'Brotli compresses');
        assert.deepEqual(brotliDecompressSync(out), plain.subarray(k));
      }
      const base = Buffer.from(plain.subarray(0, 4000));
      const changed = Buffer.from(base);
      changed[100] = (changed[100] ?? 0) ^ 0xff;
      const delta = await workers.deflate(changed, 6, base);
      assert.ok(
        delta.length < 200,
        `a one-byte change against its base deflates small (${delta.length} bytes)`,
      );
      assert.deepEqual(inflateSync(delta, { dictionary: base }), changed);
    } finally {
      await workers.close();
    }
  });

  it('frames its answer when asked: the prefix, the stream, then the CRC-32 of the stream, little-endian', async () => {
    const workers = new CompressionWorkers(1);
    try {
      const prefix = Buffer.from('HEAD-0123456');
      // A view on a larger buffer: only the view is compressed.
      const view = Buffer.concat([Buffer.from('x'.repeat(100)), plain]).subarray(100);
      const answer = await workers.brotli(view, 2, 16, { prefix, crc: true });
      assert.equal(answer.byteLength, answer.buffer.byteLength, 'one exact-size buffer');
      const framed = Buffer.from(answer);
      const stream = framed.subarray(prefix.length, framed.length - 4);
      assert.deepEqual(framed.subarray(0, prefix.length), prefix);
      assert.equal(framed.readUInt32LE(framed.length - 4), crc32(stream));
      assert.deepEqual(brotliDecompressSync(stream), plain);
      const gz = Buffer.from(await workers.gzip(plain, 6, { prefix }));
      assert.deepEqual(gunzipSync(gz.subarray(prefix.length)), plain);
      const base = Buffer.from(plain.subarray(0, 4000));
      const delta = Buffer.from(await workers.deflate(plain.subarray(0, 4000), 6, base, { crc: true }));
      const deflated = delta.subarray(0, delta.length - 4);
      assert.equal(delta.readUInt32LE(delta.length - 4), crc32(deflated));
      assert.deepEqual(inflateSync(deflated, { dictionary: base }), base);
    } finally {
      await workers.close();
    }
  });

  it('fails a call with a clear error when zlib refuses it, and goes on serving', async () => {
    const workers = new CompressionWorkers(1);
    try {
      await assert.rejects(workers.gzip(plain, 42), (err: unknown) => {
        assert.ok(err instanceof CompressionFailedError);
        assert.match((err as Error).message, /block compression failed: .*level/i);
        return true;
      });
      assert.deepEqual(gunzipSync(await workers.gzip(plain, 1)), plain);
    } finally {
      await workers.close();
    }
  });

  it('fails the calls pending when closed, and refuses a size below one', async () => {
    const workers = new CompressionWorkers(1);
    const pending = workers.gzip(Buffer.alloc(4 << 20, 7), 9);
    await workers.close();
    await assert.rejects(pending, CompressionFailedError);
    assert.throws(() => new CompressionWorkers(0), RangeError);
  });
});
