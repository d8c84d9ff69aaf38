import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
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
