import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, discardBuffer } from './buffer-pool';

describe('BufferPool', () => {
  const options = { minBytes: 4096, maxBytes: 65536, maxFreeBytes: 3 * 65536 };

  it('lends views of the asked size on power-of-two buffers and lends a buffer given back again', () => {
    const pool = new BufferPool(options);
    const a = pool.take(5000);
    assert.equal(a.length, 5000);
    assert.equal(a.buffer.byteLength, 8192);
    assert.equal(pool.take(10).buffer.byteLength, 4096, 'at least minBytes');
    assert.equal(pool.take(65536).buffer.byteLength, 65536);
    const buffer = a.buffer;
    pool.give(a);
    assert.equal(pool.idleBytes, 8192);
    const b = pool.take(8000);
    assert.equal(b.buffer, buffer, 'the same buffer, lent again');
    assert.equal(b.length, 8000);
    assert.equal(pool.idleBytes, 0);
    assert.notEqual(pool.take(8000).buffer, buffer, 'a lent buffer is not lent twice');
  });

  it('gives sizes above maxBytes buffers of their own and does not keep them', () => {
    const pool = new BufferPool(options);
    const big = pool.take(65537);
    assert.equal(big.buffer.byteLength, 65537);
    pool.give(big);
    assert.equal(pool.idleBytes, 0);
  });

  it('ignores buffers it did not lend and a buffer given twice', () => {
    const pool = new BufferPool(options);
    pool.give(new Uint8Array(8192));
    assert.equal(pool.idleBytes, 0);
    const a = pool.take(100);
    pool.give(a);
    pool.give(a);
    assert.equal(pool.idleBytes, 4096, 'kept once');
    const b = pool.take(100);
    const c = pool.take(100);
    assert.notEqual(b.buffer, c.buffer, 'never lent to two borrowers');
  });

  it('keeps at most maxFreeBytes of free buffers', () => {
    const pool = new BufferPool(options);
    const lent = Array.from({ length: 5 }, () => pool.take(65536));
    for (const view of lent) pool.give(view);
    assert.equal(pool.idleBytes, 3 * 65536);
  });

  it('refuses options that are not powers of two and sizes that are not integers', () => {
    assert.throws(() => new BufferPool({ ...options, minBytes: 5000 }), RangeError);
    assert.throws(() => new BufferPool({ ...options, minBytes: 2 * 65536 }), RangeError);
    assert.throws(() => new BufferPool({ ...options, maxFreeBytes: -1 }), RangeError);
    assert.throws(() => new BufferPool(options).take(1.5), RangeError);
  });
});

describe('discardBuffer', () => {
  it('detaches a buffer that the view spans whole: the view and every other view on it are empty', () => {
    const bytes = new Uint8Array(10_000).fill(7);
    const other = new Uint8Array(bytes.buffer, 100, 10);
    assert.equal(discardBuffer(bytes), true);
    assert.equal(bytes.length, 0);
    assert.equal(other.length, 0);
    assert.equal(bytes.buffer.byteLength, 0);
  });

  it('leaves a view on part of a buffer, a shared buffer and an empty one as they are', () => {
    const whole = new Uint8Array(100).fill(1);
    const part = whole.subarray(10, 20);
    assert.equal(discardBuffer(part), false);
    assert.equal(whole.length, 100);
    const small = Buffer.from('a small Buffer lives in a pool shared with others');
    assert.equal(discardBuffer(small), false);
    assert.equal(small.toString(), 'a small Buffer lives in a pool shared with others');
    const shared = new Uint8Array(new SharedArrayBuffer(64));
    assert.equal(discardBuffer(shared), false);
    assert.equal(shared.length, 64);
    assert.equal(discardBuffer(new Uint8Array(0)), false);
  });
});
