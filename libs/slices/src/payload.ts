/**
 * Slice payload: `codec(doc_1 || doc_2 || ... || doc_n)` where each `doc_k` is one whole BSON document as the source
 * sent it (a BSON document starts with its own int32 little-endian total length and ends with 0x00, so the
 * concatenation needs no extra framing). The slice's checksum is the SHA-256 of the compressed payload.
 */
import * as zlib from 'node:zlib';
import {
  isSliceCodec,
  SliceChecksumError,
  SliceValidationError,
  type SliceCodec,
  type SliceLimits,
} from '@tidemark/domain';
import { createHash } from 'node:crypto';

const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface EncodedPayload {
  payload: Buffer;
  codec: SliceCodec;
  docCount: number;
  rawBytes: number;
  compressedBytes: number;
  checksum: string;
}

/** Smallest possible BSON document: int32 length (5) + terminating 0x00. */
const MIN_BSON = 5;
/** MongoDB's maximum BSON document size plus the 16 KiB headroom the server allows for internal documents. */
export const MAX_BSON_BYTES = 16 * 1024 * 1024 + 16 * 1024;

export function compress(raw: Buffer, codec: SliceCodec): Buffer {
  switch (codec) {
    case 'none':
      return raw;
    case 'gzip':
      return zlib.gzipSync(raw, { level: 1 });
    case 'brotli':
      return zlib.brotliCompressSync(raw, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 3,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      });
  }
}

export function decompress(payload: Buffer, codec: SliceCodec, maxRawBytes: number): Buffer {
  try {
    switch (codec) {
      case 'none':
        return payload;
      case 'gzip':
        return zlib.gunzipSync(payload, { maxOutputLength: maxRawBytes });
      case 'brotli':
        return zlib.brotliDecompressSync(payload, { maxOutputLength: maxRawBytes });
    }
  } catch (err) {
    throw new SliceValidationError({
      reason: `payload does not decompress with codec ${codec}: ${(err as Error).message}`,
      cause: err,
    });
  }
}

export function encodeSlicePayload(docs: readonly Buffer[], codec: SliceCodec): EncodedPayload {
  const raw = Buffer.concat(docs as Buffer[]);
  const payload = compress(raw, codec);
  return {
    payload,
    codec,
    docCount: docs.length,
    rawBytes: raw.length,
    compressedBytes: payload.length,
    checksum: sha256Hex(payload),
  };
}

/** What a reader knows about the slice before opening it (from the slice's metadata). */
export interface PayloadExpectation {
  sliceId: string;
  codec: SliceCodec;
  checksum: string;
  docCount: number;
  rawBytes: number;
  compressedBytes: number;
}

/**
 * Checks and opens a payload: codec, size, checksum, decompression, BSON framing and the document count. The payload
 * has no header of its own: its layout is named by the codec, so a codec this build does not know is refused first. Returns the
 * documents as views into one buffer (no copies). Throws SliceChecksumError / SliceValidationError, never returns
 * a partial result.
 */
export function decodeSlicePayload(payload: Buffer, meta: PayloadExpectation, limits: SliceLimits): Buffer[] {
  const fail = (reason: string): never => {
    throw new SliceValidationError({ sliceId: meta.sliceId, reason });
  };
  if (!isSliceCodec(meta.codec)) fail(`unknown codec ${JSON.stringify(meta.codec)}`);
  if (payload.length !== meta.compressedBytes) {
    fail(`payload is ${payload.length} bytes, metadata says ${meta.compressedBytes}`);
  }
  if (payload.length > limits.maxSliceBytes)
    fail(`payload ${payload.length} bytes exceeds ${limits.maxSliceBytes}`);
  const actual = sha256Hex(payload);
  if (actual !== meta.checksum) {
    throw new SliceChecksumError({ sliceId: meta.sliceId, expected: meta.checksum, actual });
  }
  if (meta.rawBytes > limits.maxRawBytes) fail(`rawBytes ${meta.rawBytes} exceeds ${limits.maxRawBytes}`);
  const raw = decompress(payload, meta.codec, Math.max(meta.rawBytes, 1));
  if (raw.length !== meta.rawBytes)
    fail(`payload decompresses to ${raw.length} bytes, metadata says ${meta.rawBytes}`);
  const docs = splitBsonDocuments(raw, meta.sliceId);
  if (docs.length !== meta.docCount)
    fail(`payload holds ${docs.length} documents, metadata says ${meta.docCount}`);
  return docs;
}

/** Splits concatenated BSON documents, checking each one's framing. */
export function splitBsonDocuments(raw: Buffer, sliceId?: string): Buffer[] {
  const docs: Buffer[] = [];
  let off = 0;
  while (off < raw.length) {
    if (raw.length - off < MIN_BSON) {
      throw new SliceValidationError({ sliceId, reason: `truncated BSON document at byte ${off}` });
    }
    const len = raw.readInt32LE(off);
    if (len < MIN_BSON || len > MAX_BSON_BYTES || off + len > raw.length) {
      throw new SliceValidationError({ sliceId, reason: `bad BSON document length ${len} at byte ${off}` });
    }
    if (raw[off + len - 1] !== 0) {
      throw new SliceValidationError({
        sliceId,
        reason: `BSON document at byte ${off} does not end with 0x00`,
      });
    }
    docs.push(raw.subarray(off, off + len));
    off += len;
  }
  return docs;
}
