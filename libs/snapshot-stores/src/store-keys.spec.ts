import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidStoreKeyError } from './store-errors';
import { checkAddress, checkJobId, checkOwner, checkSnapshotId, checkTtl } from './store-keys';

describe('store keys', () => {
  it('accepts the names Tidemark writes', () => {
    assert.equal(checkJobId('k3j9a0zq'), 'k3j9a0zq');
    assert.equal(checkJobId('J_1-x'), 'J_1-x');
    assert.equal(checkSnapshotId('k3j9a0zq-s1-20261203T101500Z.1'), 'k3j9a0zq-s1-20261203T101500Z.1');
    assert.equal(checkAddress('0'.repeat(64)), '0'.repeat(64));
    assert.equal(checkOwner('snapshotter@host-1/pid 42'), 'snapshotter@host-1/pid 42');
    assert.equal(checkTtl(30_000), 30_000);
  });

  it('refuses names that could escape a directory, split a key or collide in an _id', () => {
    for (const bad of [
      '',
      '.',
      '..',
      '../x',
      '/abs',
      'a/b',
      'a\\b',
      'a\u0000',
      'a:b',
      'a.b',
      '-a',
      'x'.repeat(65),
    ]) {
      assert.throws(() => checkJobId(bad), InvalidStoreKeyError, JSON.stringify(bad));
    }
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\u0000', '.hidden', 'y'.repeat(129), 'a b']) {
      assert.throws(() => checkSnapshotId(bad), InvalidStoreKeyError, JSON.stringify(bad));
    }
    for (const bad of [
      'A'.repeat(64),
      'g'.repeat(64),
      '0'.repeat(63),
      '0'.repeat(65),
      `${'0'.repeat(62)}/.`,
    ]) {
      assert.throws(() => checkAddress(bad), InvalidStoreKeyError, bad);
    }
    for (const bad of ['', 'a\nb', 'z'.repeat(257)])
      assert.throws(() => checkOwner(bad), InvalidStoreKeyError);
    for (const bad of [0, -1, 1.5, Infinity, 86_400_001]) assert.throws(() => checkTtl(bad), RangeError);
    assert.throws(() => checkJobId(42), /invalid jobId \(number\)/);
  });

  it('shows a long value cut, with its length', () => {
    const err = new InvalidStoreKeyError('jobId', 'q'.repeat(500), 'too long');
    assert.match(err.message, /\.\.\." \(500 characters\): too long$/);
    assert.equal(err.retriable, false);
  });
});
