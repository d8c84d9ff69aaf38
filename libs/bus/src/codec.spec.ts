import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SchemaMismatchError } from '@tidemark/domain';
import { SchemaDefinitionError, SingleObjectDecodeError, type DecodeFailure } from './bus-errors';
import { AvroCodec, defaultCodec, readFingerprint, SINGLE_OBJECT_HEADER_BYTES } from './codec';
import { readSchemaSources, type SchemaSource } from './schema-files';
import { SchemaRegistry } from './schemas';
import { plain } from './testdata/plain';
import type { PhaseChanged, SliceProduced } from './types';

const phase: PhaseChanged = {
  jobId: 'job-1',
  syncId: 'sync-1',
  phase: 'APPLYING_OPLOGS',
  stage: 'oplog-applier',
  progress: { docsCopied: 10n, docsTotal: null, bytesCopied: 2048n, bytesTotal: 4096n, namespaces: [] },
  // t = 2^31 + 5 (after January 2038): negative as a signed long, must survive unchanged.
  appliedTs: BigInt.asIntN(64, ((2n ** 31n + 5n) << 32n) | 7n),
  sourceTs: null,
  at: new Date('2026-02-03T04:05:06.789Z'),
  details: { startTs: '1700000000.1' },
};

function slice(payload: Buffer): SliceProduced {
  return {
    jobId: 'job-1',
    syncId: 'sync-1',
    sliceId: 'slice-1',
    kind: 'OPLOG',
    origin: null,
    sequence: 3n,
    namespace: null,
    prevTs: 1700000000n << 32n,
    firstTs: (1700000000n << 32n) | 1n,
    lastTs: (1700000009n << 32n) | 4n,
    docCount: 1000n,
    rawBytes: BigInt(payload.length),
    compressedBytes: BigInt(payload.length),
    codec: 'NONE',
    checksum: crypto.createHash('sha256').update(payload).digest('hex'),
    producedAt: new Date('2026-02-03T04:05:06.000Z'),
    payload,
  };
}

function expectDecodeFailure(fn: () => unknown, failure: DecodeFailure): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SingleObjectDecodeError, `expected SingleObjectDecodeError, got ${String(err)}`);
    assert.ok(err instanceof SchemaMismatchError);
    assert.equal(err.failure, failure);
    assert.equal(err.retriable, false);
    return true;
  });
}

const codec = defaultCodec();

describe('single-object encoding', () => {
  it('writes C3 01, the writer fingerprint little-endian, then the Avro body', () => {
    const bytes = codec.encode('tidemark.phases.PhaseChanged', phase);
    const current = codec.registry.record('tidemark.phases.PhaseChanged').current;
    assert.deepEqual([...bytes.subarray(0, 2)], [0xc3, 0x01]);
    assert.equal(bytes.readBigUInt64LE(2), current.fingerprint);
    assert.equal(readFingerprint(bytes), current.fingerprint);
    assert.deepEqual(bytes.subarray(SINGLE_OBJECT_HEADER_BYTES), current.type.toBuffer(phase));
  });

  it('round-trips a record, keeping 64-bit values exact (bigint, two’s-complement timestamps)', () => {
    const decoded = codec.decode(codec.encode('tidemark.phases.PhaseChanged', phase));
    assert.equal(decoded.record, 'tidemark.phases.PhaseChanged');
    assert.equal(decoded.writerVersion, 1);
    assert.deepEqual(plain(decoded.value), phase);
  });

  it('round-trips a 10 MiB payload byte for byte', () => {
    const payload = crypto.randomBytes(10 * 1024 * 1024);
    const value = codec.decodeAs(
      'tidemark.slices.SliceProduced',
      codec.encode('tidemark.slices.SliceProduced', slice(payload)),
    );
    assert.ok(value.payload.equals(payload));
    assert.equal(crypto.createHash('sha256').update(value.payload).digest('hex'), value.checksum);
  });

  it('decodes bytes that sit at an offset inside a larger buffer (as Kafka hands them over)', () => {
    const bytes = codec.encode('tidemark.phases.PhaseChanged', phase);
    const big = Buffer.concat([Buffer.alloc(7, 0xee), bytes, Buffer.alloc(3, 0xee)]);
    const view = big.subarray(7, 7 + bytes.length);
    assert.deepEqual(plain(codec.decodeAs('tidemark.phases.PhaseChanged', view)), phase);
  });

  it('refuses to encode a value that does not fit the schema, naming the field', () => {
    const bad = { ...phase, progress: { ...phase.progress, docsCopied: 10 as unknown as bigint } };
    assert.throws(
      () => codec.encode('tidemark.phases.PhaseChanged', bad),
      (err: unknown) =>
        err instanceof SchemaMismatchError && !err.retriable && /progress\.docsCopied = 10/.test(err.message),
    );
  });
});

describe('decode failures are typed SchemaMismatchErrors', () => {
  const good = codec.encode('tidemark.phases.PhaseChanged', phase);

  it('fewer than 10 bytes: truncated-header', () => {
    expectDecodeFailure(() => codec.decode(good.subarray(0, 9)), 'truncated-header');
    expectDecodeFailure(() => codec.decode(Buffer.alloc(0)), 'truncated-header');
  });

  it('another marker (e.g. JSON): bad-marker', () => {
    expectDecodeFailure(() => codec.decode(Buffer.from('{"jobId":"job-1","x":1}')), 'bad-marker');
  });

  it('a fingerprint no known version has: unknown-fingerprint, with the fingerprint in the error', () => {
    const other = Buffer.from(good);
    other.writeBigUInt64LE(0x0123456789abcdefn, 2);
    assert.throws(
      () => codec.decode(other),
      (err: unknown) =>
        err instanceof SingleObjectDecodeError &&
        err.failure === 'unknown-fingerprint' &&
        err.fingerprint === '0123456789abcdef',
    );
  });

  it('a cut body: bad-body', () => {
    expectDecodeFailure(() => codec.decode(good.subarray(0, good.length - 3)), 'bad-body');
  });

  it('trailing bytes after the body: bad-body', () => {
    expectDecodeFailure(() => codec.decode(Buffer.concat([good, Buffer.from([0])])), 'bad-body');
  });

  it('a different record than expected: unexpected-record', () => {
    expectDecodeFailure(() => codec.decodeAs('tidemark.slices.SliceStored', good), 'unexpected-record');
  });
});

describe('schema evolution', () => {
  const testdata = path.join(__dirname, 'testdata');
  const real = readSchemaSources();
  const v1 = real.find((s) => s.record === 'tidemark.phases.PhaseChanged') as SchemaSource;
  const asHistory: SchemaSource = { ...v1, current: false, version: 1 };
  const v2 = (file: string): SchemaSource => ({
    record: 'tidemark.phases.PhaseChanged',
    version: 2,
    current: true,
    schema: JSON.parse(fs.readFileSync(path.join(testdata, file), 'utf8')),
    origin: file,
  });
  const others = real.filter((s) => s.record !== 'tidemark.phases.PhaseChanged');

  it('a v2 reader (new field with a default) reads data written with v1, filling the default', () => {
    const registryV2 = SchemaRegistry.fromSources([
      ...others,
      asHistory,
      v2('PhaseChanged.v2-compatible.avsc'),
    ]);
    const codecV2 = new AvroCodec(registryV2);
    const writtenByV1 = codec.encode('tidemark.phases.PhaseChanged', phase);
    const decoded = codecV2.decode(writtenByV1);
    assert.equal(decoded.writerVersion, 1);
    assert.deepEqual(plain(decoded.value), { ...phase, message: null });
    // And v2 writes with its own fingerprint, which v1 readers do not know (upgrade readers first).
    const writtenByV2 = codecV2.encode('tidemark.phases.PhaseChanged', {
      ...phase,
      message: 'hello',
    } as PhaseChanged);
    assert.notEqual(readFingerprint(writtenByV2), readFingerprint(writtenByV1));
    assert.equal(codecV2.decode(writtenByV2).writerVersion, 2);
    expectDecodeFailure(() => codec.decode(writtenByV2), 'unknown-fingerprint');
  });

  it('a v2 that adds a field without a default cannot be loaded', () => {
    assert.throws(
      () => SchemaRegistry.fromSources([...others, asHistory, v2('PhaseChanged.v2-incompatible.avsc')]),
      (err: unknown) => err instanceof SchemaDefinitionError && /cannot read v1/.test(err.message),
    );
  });

  it('a new version identical in canonical form (docs only) is refused as a duplicate fingerprint', () => {
    const docsOnly: SchemaSource = {
      ...v1,
      version: 2,
      current: true,
      schema: { ...(v1.schema as object), doc: 'changed' },
    };
    assert.throws(
      () => SchemaRegistry.fromSources([...others, asHistory, docsOnly]),
      (err: unknown) => err instanceof SchemaDefinitionError && /same fingerprint/.test(err.message),
    );
  });

  it('versions must be 1..N with the highest current', () => {
    assert.throws(
      () => SchemaRegistry.fromSources([{ ...v1, version: 2 }]),
      (err: unknown) => err instanceof SchemaDefinitionError && /without gaps/.test(err.message),
    );
    assert.throws(
      () => SchemaRegistry.fromSources([asHistory]),
      (err: unknown) => err instanceof SchemaDefinitionError && /exactly one current/.test(err.message),
    );
  });
});
