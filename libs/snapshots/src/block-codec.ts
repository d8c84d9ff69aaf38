/**
 * Blocks: how one chunk of a namespace's data is stored (docs/format.md, "Snapshots", "Block layout").
 *
 * ```
 * offset  size  field
 *      0     4  magic "TMBK" (54 4D 42 4B)
 *      4     1  layout version, 1
 *      5     1  codec: 0 none, 1 gzip, 3 zlib-delta, 4 brotli (2 is reserved for zstd; this build refuses it)
 *      6     1  flags: bit 0 set = encrypted; bit 1 set = delta; the other bits are 0
 *      7     1  reserved, 0
 *      8     4  plain length: bytes of the chunk before compression (uint32, little-endian)
 *     12    32  delta blocks only: the base block's address (32 raw bytes)
 *  12/44     …  not encrypted: codec(chunk)
 *                encrypted:    12-byte nonce, AES-256-GCM ciphertext of codec(chunk), 16-byte tag
 * ```
 *
 * A **delta block** (flag bit 1, always codec 3) holds a chunk as a zlib stream (RFC 1950) compressed with a preset
 * dictionary: the plain bytes of its *base*, a full (non-delta) block of the same job named in the header. When a
 * chunk changed a little since the previous snapshot (a few documents updated), the compressor finds nearly all of
 * it in the dictionary, so the block holds about what changed. Chunks are at most 32 KiB (`DEFAULT_CHUNKING`) so a
 * whole base fits deflate's 32 KiB window. A base is never a delta itself: reading any chunk takes at most two
 * blocks. The address is still the hash of the chunk's own plain bytes, so equal chunks share one block whatever
 * its kind.
 *
 * Addresses: SHA-256 (hex) of the plain chunk; when encrypted, HMAC-SHA-256 of the plain chunk under the key's
 * address subkey, so equal chunks still share a block but an address says nothing about the content to someone
 * without the key. Encryption: AES-256-GCM under the key's encryption subkey, a random 96-bit nonce per block, and
 * the header (12 bytes; 44 with a delta's base address) followed by the address (64 ASCII hex digits) as additional
 * authenticated data, so a block cannot be passed off under another address, with another header or another base.
 * The two subkeys come from the 32-byte key by HKDF-SHA-256 (empty salt, info `tidemark block encryption v1` /
 * `tidemark block address v1`): one key never serves two algorithms.
 *
 * Compression (docs/format.md, "Block layout", says why) is Brotli (RFC 7932) at quality 2 by default, or gzip
 * (RFC 1952) at level 6, both from `node:zlib`: built into Node, no native dependency to build or ship. A full
 * snapshot is bound by the CPU of the snapshotter's machine, and Brotli at quality 2 compresses document data about
 * as well as gzip (28.7% against 26.6% of the plain bytes, measured on generated documents) at twice its speed
 * (111-118 against 55 MB/s on one core). A Brotli payload is the Brotli stream followed by the CRC-32 (ISO-HDLC, as
 * zlib's) of the stream, little-endian: Brotli has no check of its own, and a decoder ignores bytes after the end of
 * its stream, so without it some damaged blocks (43 of 63,060 flipped bytes tried) would still decode
 * to the same chunk and a trailing addition would go unseen. gzip blocks stay readable; zstd would suit too but is
 * not in Node 20's zlib (codec byte 2 stays reserved for it). Blocks are compressed by zlib's one-shot calls in
 * worker threads (`compression-workers.ts` says why) and decompressed by the one-shot calls in place (a block
 * decodes in well under a millisecond).
 *
 * Decoding checks everything (header, tag, gzip header, decompressed length, address) and throws
 * {@link BlockDamagedError} rather than return bytes it cannot vouch for. Every byte of an encrypted block is
 * authenticated; in a plain block only the gzip header's XFL and OS bytes and the unused padding bits of the deflate
 * stream's last byte, which change nothing the block decodes to, are not checked (the address checks every byte of
 * the chunk).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { brotliDecompressSync, crc32, gunzipSync, inflateSync } from 'node:zlib';
import { TidemarkError } from '@tidemark/domain';
import { compressionWorkers } from './compression-workers';
import type { BlockCodec } from './manifest';
import { BlockDamagedError, EncryptionKeyError } from './snapshot-errors';

export const BLOCK_MAGIC = Buffer.from('TMBK', 'latin1');
export const BLOCK_LAYOUT_VERSION = 1;
export const BLOCK_HEADER_BYTES = 12;
export const BLOCK_NONCE_BYTES = 12;
export const BLOCK_TAG_BYTES = 16;
const FLAG_ENCRYPTED = 0x01;
const FLAG_DELTA = 0x02;
/** Bytes of a delta block's base address in its header. */
export const BLOCK_BASE_BYTES = 32;
/** Codec byte of a delta block: a zlib stream (RFC 1950) with the base chunk as preset dictionary. */
const CODEC_DELTA = 3;
/** The largest base a delta may name: deflate's window (32 KiB), so every byte of the base can be matched. */
export const MAX_DELTA_BASE_BYTES = 32 * 1024;
/** The first 8 bytes of every gzip member Tidemark writes: ID1 ID2, CM deflate, FLG 0, MTIME 0. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** Codec byte of each codec. */
const CODEC_BYTES: Readonly<Record<BlockCodec, number>> = { none: 0, gzip: 1, zstd: 2, brotli: 4 };
/** The codecs this build writes and reads. */
export const SUPPORTED_CODECS: readonly BlockCodec[] = ['brotli', 'gzip', 'none'];
/** The codec a snapshot is written with unless told otherwise. */
export const DEFAULT_BLOCK_CODEC: BlockCodec = 'brotli';
/** Bytes of the CRC-32 that ends a Brotli payload. */
const BROTLI_CRC_BYTES = 4;

/** Compression level Tidemark writes (fast; the chunks are small and the head is read whole every snapshot). */
export const GZIP_LEVEL = 6;
/**
 * Brotli quality Tidemark writes. Quality 1 is faster again (196 MB/s) but stores 13% more than 2 (32.5% against
 * 28.7% of the plain bytes); 3 and up store 3% less at 80% of the speed or less.
 */
export const BROTLI_QUALITY = 2;

/** The largest plain chunk a block may hold (the header's field is 32 bits; chunking keeps chunks far smaller). */
const MAX_PLAIN_BYTES = 0xffff_ffff;

/** An encryption key: 32 secret bytes and a public id (the manifest records the id, never the key). */
export interface EncryptionKey {
  readonly keyId: string;
  readonly key: Uint8Array;
}

/** How blocks are written. */
export interface BlockEncoding {
  readonly codec: BlockCodec;
  readonly key?: EncryptionKey;
  /** gzip level (1..9) of gzip blocks and of delta blocks; {@link GZIP_LEVEL} by default. */
  readonly gzipLevel?: number;
  /** Brotli quality (0..11); {@link BROTLI_QUALITY} by default. */
  readonly brotliQuality?: number;
}

/** Whether a snapshot written with `codec` stores changed chunks as delta blocks (compressed codecs do). */
export function codecTakesDeltas(codec: BlockCodec): boolean {
  return codec === 'brotli' || codec === 'gzip';
}

interface Subkeys {
  readonly encryption: Buffer;
  readonly address: Buffer;
}

const subkeyCache = new WeakMap<Uint8Array, Subkeys>();

function subkeys(key: EncryptionKey): Subkeys {
  const cached = subkeyCache.get(key.key);
  if (cached !== undefined) return cached;
  if (key.key.length !== 32) {
    throw new EncryptionKeyError(`encryption key ${key.keyId} has ${key.key.length} bytes, need 32`);
  }
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), info, 32));
  const derived = {
    encryption: derive('tidemark block encryption v1'),
    address: derive('tidemark block address v1'),
  };
  subkeyCache.set(key.key, derived);
  return derived;
}

/** A key's default id: the first 16 hex digits of HMAC-SHA-256(key, "tidemark key id"); reveals nothing of the key. */
export function keyFingerprint(key: Uint8Array): string {
  return createHmac('sha256', key).update('tidemark key id').digest('hex').slice(0, 16);
}

/** The block address of a plain chunk: SHA-256 hex, or HMAC-SHA-256 hex under the key's address subkey. */
export function blockAddress(plain: Uint8Array, key?: EncryptionKey): string {
  if (key === undefined) return createHash('sha256').update(plain).digest('hex');
  return createHmac('sha256', subkeys(key).address).update(plain).digest('hex');
}

/** True when `value` looks like a block address (64 lowercase hex digits). */
export function isBlockAddress(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

function header(codec: BlockCodec, encrypted: boolean, plainLength: number, base?: string): Buffer {
  const out = Buffer.alloc(BLOCK_HEADER_BYTES + (base === undefined ? 0 : BLOCK_BASE_BYTES));
  BLOCK_MAGIC.copy(out, 0);
  out[4] = BLOCK_LAYOUT_VERSION;
  out[5] = base === undefined ? CODEC_BYTES[codec] : CODEC_DELTA;
  out[6] = (encrypted ? FLAG_ENCRYPTED : 0) | (base === undefined ? 0 : FLAG_DELTA);
  out[7] = 0;
  out.writeUInt32LE(plainLength, 8);
  if (base !== undefined) out.write(base, BLOCK_HEADER_BYTES, 'hex');
  return out;
}

/** Header (with a delta's base address) and block address: what the authentication tag covers besides the data. */
function additionalData(head: Uint8Array, address: string): Buffer {
  return Buffer.concat([head, Buffer.from(address, 'latin1')]);
}

function checkCodec(codec: BlockCodec): void {
  if (!SUPPORTED_CODECS.includes(codec)) {
    throw new TidemarkError(
      `block codec ${codec} is not supported by this build (it writes brotli, gzip or none)`,
      {
        retriable: false,
      },
    );
  }
}

/** A chunk as a block: its address and the bytes to store. */
export interface EncodedBlock {
  readonly address: string;
  readonly bytes: Uint8Array;
}

/** Encodes a plain chunk as a block (compress, then encrypt when a key is given). */
export async function encodeBlock(
  plain: Uint8Array,
  encoding: BlockEncoding,
  address = blockAddress(plain, encoding.key),
): Promise<EncodedBlock> {
  checkCodec(encoding.codec);
  if (plain.length > MAX_PLAIN_BYTES)
    throw new RangeError(`chunk of ${plain.length} bytes is too large for a block`);
  const head = header(encoding.codec, encoding.key !== undefined, plain.length);
  if (encoding.codec === 'none') return seal(head, plain, address, encoding);
  // Unencrypted, the worker answers with the whole block (header, stream, a Brotli stream's CRC-32): no copy here.
  // Encrypted, it answers with the payload, which `seal` encrypts.
  const frame = { ...(encoding.key === undefined ? { prefix: head } : {}), crc: encoding.codec === 'brotli' };
  const framed =
    encoding.codec === 'brotli'
      ? await compressionWorkers().brotli(
          plain,
          encoding.brotliQuality ?? BROTLI_QUALITY,
          brotliWindowBits(plain.length),
          frame,
        )
      : await compressionWorkers().gzip(plain, encoding.gzipLevel ?? GZIP_LEVEL, frame);
  return encoding.key === undefined ? { address, bytes: framed } : seal(head, framed, address, encoding);
}

/** The smallest Brotli window (2^bits - 16 bytes, bits 10..24) that holds `length` bytes, so no match is missed. */
function brotliWindowBits(length: number): number {
  let bits = 10;
  while (bits < 24 && 2 ** bits - 16 < length) bits++;
  return bits;
}

/** The plain bytes of a delta's base chunk, and its address. */
export interface DeltaBase {
  readonly address: string;
  readonly plain: Uint8Array;
}

/**
 * Encodes a plain chunk as a delta block against `base` (a full block's chunk, at most
 * {@link MAX_DELTA_BASE_BYTES}): zlib with the base's plain bytes as preset dictionary, then encrypted when a key is
 * given. The caller decides whether the delta is worth keeping (compare its size with a full block's).
 */
export async function encodeDeltaBlock(
  plain: Uint8Array,
  base: DeltaBase,
  encoding: BlockEncoding,
  address = blockAddress(plain, encoding.key),
): Promise<EncodedBlock> {
  if (!codecTakesDeltas(encoding.codec)) {
    throw new TidemarkError(`delta blocks need a compressed codec (brotli or gzip), not ${encoding.codec}`, {
      retriable: false,
    });
  }
  if (!isBlockAddress(base.address))
    throw new RangeError(`delta base ${base.address} is not a block address`);
  if (base.address === address) throw new RangeError('a block cannot be its own delta base');
  if (base.plain.length > MAX_DELTA_BASE_BYTES || base.plain.length === 0) {
    throw new RangeError(`delta base of ${base.plain.length} bytes (need 1..${MAX_DELTA_BASE_BYTES})`);
  }
  if (plain.length > MAX_PLAIN_BYTES)
    throw new RangeError(`chunk of ${plain.length} bytes is too large for a block`);
  const head = header('gzip', encoding.key !== undefined, plain.length, base.address);
  const level = encoding.gzipLevel ?? GZIP_LEVEL;
  if (encoding.key === undefined) {
    return { address, bytes: await compressionWorkers().deflate(plain, level, base.plain, { prefix: head }) };
  }
  return seal(head, await compressionWorkers().deflate(plain, level, base.plain), address, encoding);
}

/** Header, then the payload, encrypted (nonce, ciphertext, tag) when the encoding has a key. */
function seal(
  head: Buffer,
  payload: Buffer | Uint8Array,
  address: string,
  encoding: BlockEncoding,
): EncodedBlock {
  if (encoding.key === undefined) return { address, bytes: Buffer.concat([head, payload]) };
  const nonce = randomBytes(BLOCK_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', subkeys(encoding.key).encryption, nonce, {
    authTagLength: BLOCK_TAG_BYTES,
  });
  cipher.setAAD(additionalData(head, address));
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  return { address, bytes: Buffer.concat([head, nonce, ciphertext, cipher.getAuthTag()]) };
}

/** The header fields of a block (after checking magic and version). */
export interface BlockHeader {
  readonly codec: BlockCodec;
  readonly encrypted: boolean;
  readonly plainLength: number;
  /** A delta block's base address (absent for a full block). */
  readonly base?: string;
  /** Bytes of the header (12, or 44 for a delta). */
  readonly headerBytes: number;
}

/** Context for naming damage. */
export interface BlockContext {
  readonly jobId?: string;
  readonly location?: string;
}

/** Reads and checks a block's header; throws {@link BlockDamagedError} when it is not a block this build reads. */
export function readBlockHeader(bytes: Uint8Array, address: string, context: BlockContext = {}): BlockHeader {
  const damaged = (reason: string) => new BlockDamagedError({ address, reason, ...context });
  if (bytes.length < BLOCK_HEADER_BYTES)
    throw damaged(`${bytes.length} bytes, shorter than the block header`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 4).equals(BLOCK_MAGIC)) throw damaged('no block magic "TMBK" at the start');
  if (buf[4] !== BLOCK_LAYOUT_VERSION)
    throw damaged(`block layout version ${buf[4]} is unknown to this build`);
  const flags = buf[6] as number;
  if ((flags & ~(FLAG_ENCRYPTED | FLAG_DELTA)) !== 0 || buf[7] !== 0)
    throw damaged(`unknown flags ${flags} / reserved ${buf[7]}`);
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  const plainLength = buf.readUInt32LE(8);
  if ((flags & FLAG_DELTA) !== 0) {
    if (buf[5] !== CODEC_DELTA) throw damaged(`a delta block with codec byte ${buf[5]}, not ${CODEC_DELTA}`);
    const headerBytes = BLOCK_HEADER_BYTES + BLOCK_BASE_BYTES;
    if (bytes.length < headerBytes)
      throw damaged(`${bytes.length} bytes, shorter than a delta block's header`);
    const base = buf.toString('hex', BLOCK_HEADER_BYTES, headerBytes);
    if (base === address) throw damaged('names itself as its delta base');
    return { codec: 'gzip', encrypted, plainLength, base, headerBytes };
  }
  const codec = (Object.keys(CODEC_BYTES) as BlockCodec[]).find((c) => CODEC_BYTES[c] === buf[5]);
  if (codec === undefined || !SUPPORTED_CODECS.includes(codec)) {
    throw damaged(`codec byte ${buf[5]} (${codec ?? 'unknown'}) is not one this build reads`);
  }
  return { codec, encrypted, plainLength, headerBytes: BLOCK_HEADER_BYTES };
}

/**
 * Decodes a block read under `address` and checks it completely: header, authentication tag (encrypted), payload,
 * plain length and address. `key` must be the key the snapshot names when its blocks are encrypted; an encrypted
 * block without a key, or a plain block where a key is expected, is refused. A delta block needs `base`: the plain
 * bytes of the block its header names (read and decoded by the caller; `readBlockHeader` gives the address).
 */
export async function decodeBlock(
  bytes: Uint8Array,
  address: string,
  key?: EncryptionKey,
  context: BlockContext = {},
  base?: DeltaBase,
): Promise<Uint8Array> {
  const damaged = (reason: string, cause?: unknown) =>
    new BlockDamagedError({ address, reason, cause, ...context });
  const head = readBlockHeader(bytes, address, context);
  // Whether a key is given says whether the snapshot's blocks are encrypted; the caller checks it has the key the
  // manifest names before reading blocks (readSnapshot, verifySnapshot), so a mismatch here is the block's fault.
  if (head.encrypted && key === undefined)
    throw damaged('encrypted, but the snapshot says its blocks are not');
  if (!head.encrypted && key !== undefined)
    throw damaged('not encrypted, but the snapshot says its blocks are');
  if (head.base !== undefined && base?.address !== head.base) {
    throw damaged(
      base === undefined
        ? `a delta of block ${head.base}, and no base was given`
        : `a delta of block ${head.base}, not of ${base.address}`,
    );
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let payload: Buffer = buf.subarray(head.headerBytes);
  if (key !== undefined) {
    if (payload.length < BLOCK_NONCE_BYTES + BLOCK_TAG_BYTES)
      throw damaged('truncated: no room for nonce and tag');
    const nonce = payload.subarray(0, BLOCK_NONCE_BYTES);
    const tag = payload.subarray(payload.length - BLOCK_TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', subkeys(key).encryption, nonce, {
      authTagLength: BLOCK_TAG_BYTES,
    });
    decipher.setAAD(additionalData(buf.subarray(0, head.headerBytes), address));
    decipher.setAuthTag(tag);
    try {
      payload = Buffer.concat([
        decipher.update(payload.subarray(BLOCK_NONCE_BYTES, payload.length - BLOCK_TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw damaged(
        `authentication failed under key ${key.keyId} (damaged, or encrypted under another key)`,
        err,
      );
    }
  }
  let plain: Buffer;
  if (head.base !== undefined) {
    try {
      plain = inflateSync(payload, {
        dictionary: base!.plain,
        maxOutputLength: Math.max(1, head.plainLength),
      });
    } catch (err) {
      throw damaged(
        `delta payload does not decompress against base ${head.base} (truncated or corrupt)`,
        err,
      );
    }
  } else if (head.codec === 'gzip') {
    // Tidemark writes a bare gzip header (no name, comment or extra field, MTIME 0); anything else is damage. XFL
    // and OS (bytes 8 and 9 of the gzip header) are informational and change nothing, so they are not checked.
    if (payload.length < GZIP_HEADER.length || !payload.subarray(0, GZIP_HEADER.length).equals(GZIP_HEADER)) {
      throw damaged('gzip header is not the one Tidemark writes (1f 8b 08 00, MTIME 0)');
    }
    try {
      plain = gunzipSync(payload, { maxOutputLength: Math.max(1, head.plainLength) });
    } catch (err) {
      throw damaged('gzip payload does not decompress (truncated or corrupt)', err);
    }
  } else if (head.codec === 'brotli') {
    if (payload.length <= BROTLI_CRC_BYTES)
      throw damaged('Brotli payload too short for its stream and CRC-32');
    const stream = payload.subarray(0, payload.length - BROTLI_CRC_BYTES);
    if (crc32(stream) !== payload.readUInt32LE(stream.length)) {
      throw damaged('Brotli stream does not match its CRC-32 (damaged or truncated)');
    }
    try {
      plain = brotliDecompressSync(stream, { maxOutputLength: Math.max(1, head.plainLength) });
    } catch (err) {
      throw damaged('Brotli payload does not decompress (truncated or corrupt)', err);
    }
  } else {
    plain = payload;
  }
  if (plain.length !== head.plainLength) {
    throw damaged(`decodes to ${plain.length} bytes, header says ${head.plainLength}`);
  }
  const actual = blockAddress(plain, key);
  if (
    !timingSafeEqual(Buffer.from(actual, 'latin1'), Buffer.from(address.padEnd(64).slice(0, 64), 'latin1'))
  ) {
    throw damaged(`content ${key === undefined ? 'SHA-256' : 'HMAC'} is ${actual}, not the address`);
  }
  return plain;
}
