import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BSON, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import {
  DEFAULT_SLICE_LIMITS,
  SliceChecksumError,
  SliceValidationError,
  type SliceCodec,
} from '@tidemark/domain';
import { decodeSlicePayload, encodeSlicePayload, splitBsonDocuments } from './payload';

const doc = (o: Record<string, unknown>) => Buffer.from(BSON.serialize(o));

function expectation(e: ReturnType<typeof encodeSlicePayload>, sliceId = 's1') {
  return {
    sliceId,
    codec: e.codec,
    checksum: e.checksum,
    docCount: e.docCount,
    rawBytes: e.rawBytes,
    compressedBytes: e.compressedBytes,
  };
}

describe('slice payload', () => {
  const docs = [
    doc({
      _id: new ObjectId(),
      a: new Int32(1),
      b: new Long(2n ** 60n),
      c: new Double(-0),
      s: 'nul\u0000inside',
    }),
    doc({
      _id: 2,
      d: Decimal128.fromString('1.10'),
      min: new MinKey(),
      max: new MaxKey(),
      ts: new Timestamp({ t: 5, i: 7 }),
    }),
    doc({ _id: 'x', nested: { arr: [[1, [2, [3]]], { z: null }] }, z: 1, a: 2 }),
  ];

  for (const codec of ['none', 'gzip', 'brotli'] as SliceCodec[]) {
    it(`round-trips documents byte for byte with codec ${codec}`, () => {
      const e = encodeSlicePayload(docs, codec);
      assert.equal(e.docCount, 3);
      assert.equal(
        e.rawBytes,
        docs.reduce((n, d) => n + d.length, 0),
      );
      const out = decodeSlicePayload(e.payload, expectation(e), DEFAULT_SLICE_LIMITS);
      assert.equal(out.length, docs.length);
      out.forEach((d, k) => assert.ok(d.equals(docs[k]!), `document ${k} differs`));
    });
  }

  it('rejects a payload whose checksum does not match', () => {
    const e = encodeSlicePayload(docs, 'gzip');
    const bad = Buffer.from(e.payload);
    bad[bad.length - 5]! ^= 0xff;
    assert.throws(() => decodeSlicePayload(bad, expectation(e), DEFAULT_SLICE_LIMITS), SliceChecksumError);
  });

  it('rejects a payload whose codec this build does not know (the codec names the payload layout)', () => {
    const e = encodeSlicePayload(docs, 'none');
    const future = { ...expectation(e), codec: 'zstd' as SliceCodec };
    assert.throws(
      () => decodeSlicePayload(e.payload, future, DEFAULT_SLICE_LIMITS),
      (err: unknown) => err instanceof SliceValidationError && /unknown codec "zstd"/.test(err.message),
    );
  });

  it('rejects a payload whose size, document count or raw size disagree with the metadata', () => {
    const e = encodeSlicePayload(docs, 'gzip');
    assert.throws(
      () => decodeSlicePayload(e.payload, { ...expectation(e), compressedBytes: 1 }, DEFAULT_SLICE_LIMITS),
      SliceValidationError,
    );
    assert.throws(
      () => decodeSlicePayload(e.payload, { ...expectation(e), docCount: 2 }, DEFAULT_SLICE_LIMITS),
      /holds 3 documents/,
    );
    assert.throws(
      () =>
        decodeSlicePayload(e.payload, { ...expectation(e), rawBytes: e.rawBytes + 1 }, DEFAULT_SLICE_LIMITS),
      SliceValidationError,
    );
  });

  it('rejects broken BSON framing', () => {
    const raw = Buffer.concat(docs);
    assert.throws(
      () => splitBsonDocuments(raw.subarray(0, raw.length - 3)),
      /bad BSON document length|truncated/,
    );
    const wrongEnd = Buffer.from(raw);
    wrongEnd[docs[0]!.length - 1] = 1;
    assert.throws(() => splitBsonDocuments(wrongEnd), /does not end with 0x00/);
  });

  it('carries incompressible data and a document of 16 MiB', () => {
    const big = doc({ _id: 1, blob: randomBytes(16 * 1024 * 1024 - 64) });
    assert.ok(big.length <= 16 * 1024 * 1024);
    const e = encodeSlicePayload([big], 'gzip');
    const out = decodeSlicePayload(e.payload, expectation(e), {
      ...DEFAULT_SLICE_LIMITS,
      maxSliceBytes: 17 * 1024 * 1024,
    });
    assert.ok(out[0]!.equals(big));
  });
});
