import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, crc32, gunzipSync } from 'node:zlib';
import { TidemarkError } from '@tidemark/domain';
import {
  BLOCK_HEADER_BYTES,
  blockAddress,
  decodeBlock,
  encodeBlock,
  keyFingerprint,
  readBlockHeader,
  type EncryptionKey,
} from './block-codec';
import { loadEncryptionKey } from './encryption-key';
import { BlockDamagedError, EncryptionKeyError } from './snapshot-errors';

const plain = Buffer.from('{"_id":1,"name":"a document, repeated"}'.repeat(500));
const key: EncryptionKey = { keyId: 'k1', key: randomBytes(32) };
const otherKey: EncryptionKey = { keyId: 'k2', key: randomBytes(32) };

async function rejectsDamaged(promise: Promise<unknown>, address: string, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BlockDamagedError, `got ${String(err)}`);
    assert.equal(err.address, address);
    assert.match(err.reason, reason);
    assert.equal(err.retriable, false);
    assert.match(err.message, new RegExp(address));
    return true;
  });
}

describe('block encoding', () => {
  /** A plain block of `plain`: SHA-256 address, header (magic, version, codec byte), compressed, decodes back. */
  async function checkPlainBlock(codec: 'brotli' | 'gzip', codecByte: number): Promise<Buffer> {
    const block = await encodeBlock(plain, { codec });
    assert.equal(block.address, createHash('sha256').update(plain).digest('hex'));
    const bytes = Buffer.from(block.bytes);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'TMBK');
    assert.deepEqual([...bytes.subarray(4, 8)], [1, codecByte, 0, 0]);
    assert.equal(bytes.readUInt32LE(8), plain.length);
    assert.ok(bytes.length < plain.length / 10);
    assert.deepEqual(Buffer.from(await decodeBlock(block.bytes, block.address)), plain);
    assert.deepEqual(readBlockHeader(block.bytes, block.address), {
      codec,
      encrypted: false,
      plainLength: plain.length,
      headerBytes: 12,
    });
    return bytes;
  }

  it('gzip, not encrypted: address is the SHA-256 of the plain chunk, the header says what the block is', async () => {
    const bytes = await checkPlainBlock('gzip', 1);
    // Readable with any gzip: the payload is plain RFC 1952 after the 12-byte header.
    assert.deepEqual(gunzipSync(bytes.subarray(BLOCK_HEADER_BYTES)), plain);
  });

  it('brotli, not encrypted: codec byte 4, the payload a Brotli stream and its CRC-32, readable by any Brotli', async () => {
    const bytes = await checkPlainBlock('brotli', 4);
    const stream = bytes.subarray(BLOCK_HEADER_BYTES, bytes.length - 4);
    assert.equal(bytes.readUInt32LE(bytes.length - 4), crc32(stream));
    assert.deepEqual(brotliDecompressSync(stream), plain);
    const empty = await encodeBlock(new Uint8Array(0), { codec: 'brotli' });
    assert.equal((await decodeBlock(empty.bytes, empty.address)).length, 0);
  });

  it('brotli: bytes added after the stream, or a stream that still decodes under a wrong CRC, are damage', async () => {
    const block = await encodeBlock(plain, { codec: 'brotli' });
    // A Brotli decoder ignores what follows its stream: the CRC-32 at the end is what notices the addition.
    const longer = Buffer.concat([block.bytes, Buffer.from([1, 2, 3])]);
    await rejectsDamaged(decodeBlock(longer, block.address), block.address, /CRC-32/);
    const wrongCrc = Buffer.from(block.bytes);
    wrongCrc[wrongCrc.length - 1] = (wrongCrc[wrongCrc.length - 1] as number) ^ 1;
    await rejectsDamaged(decodeBlock(wrongCrc, block.address), block.address, /CRC-32/);
  });

  it('codec none round-trips, and an empty chunk too', async () => {
    const block = await encodeBlock(plain, { codec: 'none' });
    assert.deepEqual(Buffer.from(block.bytes.subarray(BLOCK_HEADER_BYTES)), plain);
    assert.deepEqual(Buffer.from(await decodeBlock(block.bytes, block.address)), plain);
    const empty = await encodeBlock(new Uint8Array(0), { codec: 'gzip' });
    assert.equal((await decodeBlock(empty.bytes, empty.address)).length, 0);
  });

  it('encrypted: the address is a keyed HMAC, the bytes differ per write (random nonce), both decode', async () => {
    const a = await encodeBlock(plain, { codec: 'gzip', key });
    const b = await encodeBlock(plain, { codec: 'gzip', key });
    assert.equal(a.address, b.address);
    assert.notEqual(a.address, blockAddress(plain));
    assert.notEqual(a.address, blockAddress(plain, otherKey));
    assert.notDeepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
    assert.equal(a.bytes[6], 1);
    assert.ok(!Buffer.from(a.bytes).includes(Buffer.from('a document')));
    assert.deepEqual(Buffer.from(await decodeBlock(a.bytes, a.address, key)), plain);
    assert.deepEqual(Buffer.from(await decodeBlock(b.bytes, b.address, key)), plain);
  });

  it('a wrong key is a clear error, never garbage', async () => {
    const block = await encodeBlock(plain, { codec: 'gzip', key });
    await rejectsDamaged(
      decodeBlock(block.bytes, block.address, otherKey),
      block.address,
      /authentication failed/,
    );
    await rejectsDamaged(decodeBlock(block.bytes, block.address), block.address, /encrypted, but/);
    const clear = await encodeBlock(plain, { codec: 'gzip' });
    await rejectsDamaged(decodeBlock(clear.bytes, clear.address, key), clear.address, /not encrypted/);
  });

  it('a flipped byte anywhere is detected, encrypted or not', async () => {
    // Every byte of each block, flipped one at a time.
    for (const encoding of [
      { codec: 'gzip' as const },
      { codec: 'brotli' as const },
      { codec: 'none' as const },
      { codec: 'gzip' as const, key },
      { codec: 'brotli' as const, key },
    ]) {
      const block = await encodeBlock(plain.subarray(0, 3000), encoding);
      for (let at = 0; at < block.bytes.length; at++) {
        // gzip's XFL and OS bytes are informational (block-codec.ts says so).
        if (encoding.codec === 'gzip' && encoding.key === undefined && (at === 20 || at === 21)) continue;
        const bytes = Buffer.from(block.bytes);
        bytes[at] = (bytes[at] as number) ^ 0x10;
        await assert.rejects(
          decodeBlock(bytes, block.address, encoding.key),
          BlockDamagedError,
          `byte ${at}`,
        );
      }
    }
  });

  it('a truncated block or one under another address is detected', async () => {
    for (const encoding of [
      { codec: 'gzip' as const },
      { codec: 'gzip' as const, key },
      { codec: 'brotli' as const },
      { codec: 'brotli' as const, key },
    ]) {
      const block = await encodeBlock(plain, encoding);
      for (const length of [0, 5, 12, 13, 16, 20, block.bytes.length - 1]) {
        await assert.rejects(
          decodeBlock(block.bytes.subarray(0, length), block.address, encoding.key),
          BlockDamagedError,
        );
      }
      const other = await encodeBlock(Buffer.from('other'), encoding);
      await rejectsDamaged(decodeBlock(other.bytes, block.address, encoding.key), block.address, /./);
    }
  });

  it('names the job and location when given', async () => {
    const block = await encodeBlock(plain, { codec: 'gzip' });
    const bytes = Buffer.from(block.bytes);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await assert.rejects(
      decodeBlock(bytes, block.address, undefined, { jobId: 'j1', location: 'mem:j1/x' }),
      (err: unknown) =>
        err instanceof BlockDamagedError && /job j1/.test(err.message) && /mem:j1\/x/.test(err.message),
    );
  });

  it('refuses zstd (reserved) and other unknown headers', async () => {
    await assert.rejects(encodeBlock(plain, { codec: 'zstd' }), TidemarkError);
    const block = await encodeBlock(plain, { codec: 'gzip' });
    const bytes = Buffer.from(block.bytes);
    bytes[5] = 2;
    await rejectsDamaged(decodeBlock(bytes, block.address), block.address, /codec byte 2 \(zstd\)/);
    bytes[5] = 1;
    bytes[4] = 9;
    await rejectsDamaged(decodeBlock(bytes, block.address), block.address, /layout version 9/);
  });
});

describe('loadEncryptionKey', () => {
  const secret = randomBytes(32).toString('base64');

  it('loads a base64 key from an environment variable, its id defaulting to its fingerprint', async () => {
    const loaded = await loadEncryptionKey({ env: 'TM_KEY' }, { TM_KEY: `${secret}\n` });
    assert.deepEqual(Buffer.from(loaded.key), Buffer.from(secret, 'base64'));
    assert.equal(loaded.keyId, keyFingerprint(loaded.key));
    assert.equal(
      (await loadEncryptionKey({ env: 'TM_KEY', keyId: 'prod-2026' }, { TM_KEY: secret })).keyId,
      'prod-2026',
    );
  });

  it('loads a key from a file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tm-key-'));
    try {
      const file = path.join(dir, 'key');
      await writeFile(file, secret);
      const loaded = await loadEncryptionKey({ file });
      assert.equal(Buffer.from(loaded.key).toString('base64'), secret);
      await assert.rejects(
        loadEncryptionKey({ file: path.join(dir, 'absent') }),
        /cannot read encryption key file .*ENOENT/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('errors name the source and the problem, never the key', async () => {
    const short = randomBytes(16).toString('base64');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /TM_KEY is not set/],
      [{ TM_KEY: '' }, /is empty/],
      [{ TM_KEY: `${secret}!` }, /not valid base64/],
      [{ TM_KEY: short }, /decodes to 16 bytes/],
    ];
    for (const [env, message] of cases) {
      await assert.rejects(loadEncryptionKey({ env: 'TM_KEY' }, env), (err: unknown) => {
        assert.ok(err instanceof EncryptionKeyError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(secret.slice(0, 8)) && !err.message.includes(short.slice(0, 8)));
        return true;
      });
    }
    await assert.rejects(loadEncryptionKey({}), /exactly one source/);
  });
});
