import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256, sha256Hex } from './checksum';

// Known answers (FIPS 180-2 examples; `printf abc | sha256sum`).
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('sha256Hex', () => {
  it('matches known digests', () => {
    assert.equal(sha256Hex(Buffer.alloc(0)), EMPTY);
    assert.equal(sha256Hex(Buffer.from('abc')), ABC);
    assert.equal(sha256Hex(new Uint8Array([0x61, 0x62, 0x63])), ABC);
  });

  it('hashes a list of buffers as their concatenation', () => {
    assert.equal(sha256Hex([Buffer.from('a'), Buffer.from(''), Buffer.from('bc')]), ABC);
    assert.equal(sha256Hex([]), EMPTY);
  });
});

describe('Sha256', () => {
  it('streams chunks to the same digest and counts bytes', () => {
    const hash = new Sha256().update(Buffer.from('ab')).update(Buffer.from('c'));
    assert.equal(hash.byteLength, 3);
    assert.equal(hash.digestHex(), ABC);
  });

  it('refuses reuse after the digest', () => {
    const hash = new Sha256();
    hash.digestHex();
    assert.throws(() => hash.update(Buffer.from('x')), /after digestHex/);
    assert.throws(() => hash.digestHex(), /twice/);
  });
});
