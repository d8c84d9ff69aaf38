import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  opTime,
  phaseReport,
  SliceValidationError,
  validateSliceMeta,
  type SliceMeta,
} from '@tidemark/domain';
import { phaseChangedOf, phaseReportOf } from './phase-mapping';
import { opTimeFromAvroLong, opTimeToAvroLong } from './op-time-long';
import { sliceMetaFromProduced, sliceProducedFromMeta } from './slice-mapping';
import { defaultCodec } from './codec';

const checksum = 'a'.repeat(64);

describe('oplog positions in Avro longs', () => {
  it('store t << 32 | i unchanged before 2038 and in two’s complement after, and read back exactly', () => {
    const now = opTime(1_700_000_000, 3);
    assert.equal(opTimeToAvroLong(now), (1_700_000_000n << 32n) | 3n);
    const late = opTime(2 ** 31 + 1, 0xffff_ffff);
    assert.ok(opTimeToAvroLong(late) < 0n, 'negative as a signed long');
    assert.deepEqual(opTimeFromAvroLong(opTimeToAvroLong(late)), late);
    const max = opTime(0xffff_ffff, 0xffff_ffff);
    assert.equal(opTimeToAvroLong(max), -1n);
    assert.deepEqual(opTimeFromAvroLong(-1n), max);
  });
});

describe('slice metadata ↔ SliceProduced', () => {
  const metas: SliceMeta[] = [
    {
      kind: 'initial',
      origin: 'scan',
      jobId: 'job-1',
      syncId: 'sync-1',
      sliceId: 's-1',
      namespace: 'shop.orders',
      sequence: 4,
      docCount: 2,
      rawBytes: 100,
      compressedBytes: 80,
      codec: 'gzip',
      checksum,
    },
    {
      kind: 'oplog',
      jobId: 'job-1',
      syncId: 'sync-1',
      sliceId: 's-2',
      sequence: 9,
      prevTs: opTime(1_700_000_000, 1),
      firstTs: opTime(1_700_000_000, 2),
      lastTs: opTime(2 ** 31 + 7, 4),
      docCount: 3,
      rawBytes: 300,
      compressedBytes: 300,
      codec: 'none',
      checksum,
    },
    {
      kind: 'oplog',
      jobId: 'job-1',
      syncId: 'sync-1',
      sliceId: 's-3',
      sequence: 10,
      prevTs: opTime(1_700_000_000, 1),
      lastTs: opTime(1_700_000_100, 0),
      docCount: 0,
      rawBytes: 0,
      compressedBytes: 0,
      codec: 'none',
      checksum,
    },
    {
      kind: 'catalog',
      origin: 'missing',
      jobId: 'job-1',
      syncId: 'sync-1',
      sliceId: 's-4',
      sequence: 0,
      docCount: 1,
      rawBytes: 50,
      compressedBytes: 40,
      codec: 'brotli',
      checksum,
    },
  ];

  it('round-trip through the record and its encoding for every slice kind', () => {
    const codec = defaultCodec();
    for (const meta of metas) {
      const record = sliceProducedFromMeta(meta, Buffer.from('payload'), new Date(0));
      const decoded = codec.decodeAs(
        'tidemark.slices.SliceProduced',
        codec.encode('tidemark.slices.SliceProduced', record),
      );
      assert.deepEqual(sliceMetaFromProduced(decoded), meta, meta.sliceId);
    }
  });

  it('refuse records the domain cannot hold', () => {
    const [initial, oplog] = metas.map((m) => sliceProducedFromMeta(m, Buffer.alloc(0), new Date(0)));
    assert.ok(initial && oplog);
    for (const bad of [
      { ...initial, namespace: null },
      { ...initial, origin: null },
      { ...oplog, prevTs: null },
      { ...oplog, lastTs: null },
      { ...oplog, sequence: 2n ** 53n },
      { ...oplog, docCount: -1n },
    ]) {
      assert.throws(() => sliceMetaFromProduced(bad), SliceValidationError);
    }
  });

  it('produce metadata the domain validates', () => {
    for (const meta of metas) assert.deepEqual(validateSliceMeta(meta), [], meta.sliceId);
  });
});

describe('phase report ↔ PhaseChanged', () => {
  it('round-trips every field, the applied and source positions included, through the codec', () => {
    const report = phaseReport(
      'oplog-applier',
      {
        jobId: 'job-1',
        syncId: 'job-1-s1',
        phase: 'applying-oplogs',
        appliedTs: opTime(2 ** 31 + 5, 1),
        sourceTs: opTime(1_700_000_000, 9),
        progress: {
          docsCopied: 9_007_199_254_740_993n,
          docsTotal: null,
          bytesCopied: 1n,
          bytesTotal: 2n,
          namespaces: [
            { namespace: 'a.b', docsCopied: 1n, docsTotal: 2n, bytesCopied: 3n, bytesTotal: null },
          ],
        },
        details: { 'odd.$key': 'kept' },
      },
      new Date('2030-01-02T03:04:05.006Z'),
    );
    const codec = defaultCodec();
    const record = phaseChangedOf(report);
    assert.equal(record.phase, 'APPLYING_OPLOGS');
    const decoded = codec.decodeAs(
      'tidemark.phases.PhaseChanged',
      codec.encode('tidemark.phases.PhaseChanged', record),
      'spec',
    );
    assert.deepEqual(phaseReportOf(decoded), report);
  });
});
