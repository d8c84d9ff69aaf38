import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCodec } from './codec';
import { claimCheckOf, sliceProducedFromMeta, sliceStoredOf } from './slice-mapping';
import type { SliceMeta } from '@tidemark/domain';
import { claimCheckFromMeta } from '@tidemark/slices';

const base = {
  jobId: 'job00001',
  syncId: 'job00001-s1',
  sequence: 4,
  docCount: 2,
  rawBytes: 100,
  compressedBytes: 80,
  codec: 'gzip' as const,
  checksum: 'a'.repeat(64),
};
const metas: SliceMeta[] = [
  {
    ...base,
    kind: 'initial',
    origin: 'missing',
    namespace: 'shop.orders',
    sliceId: 'job00001-s1:i:shop.orders:4',
  },
  { ...base, kind: 'catalog', origin: 'scan', sliceId: 'job00001-s1:c:scan' },
  {
    ...base,
    kind: 'oplog',
    sliceId: 'job00001-s1:o:4294967295.7:4294967295.9',
    // t above 2^31: the stored long is negative (two's complement) and must round-trip.
    prevTs: { t: 4_294_967_295, i: 7 },
    firstTs: { t: 4_294_967_295, i: 8 },
    lastTs: { t: 4_294_967_295, i: 9 },
  },
  {
    ...base,
    kind: 'oplog',
    docCount: 0,
    rawBytes: 0,
    compressedBytes: 20,
    sliceId: 'job00001-s1:o:10.1:11.1',
    prevTs: { t: 10, i: 1 },
    lastTs: { t: 11, i: 1 },
  },
];

describe('SliceStored mapping', () => {
  for (const meta of metas) {
    it(`agrees with the bus's SliceProduced mapping for ${meta.sliceId} and survives the codec`, () => {
      const storedAt = new Date('2030-01-01T00:00:00Z');
      const stored = sliceStoredOf(claimCheckFromMeta(meta, storedAt));
      const produced = sliceProducedFromMeta(meta, Buffer.alloc(0), storedAt);
      for (const field of [
        'jobId',
        'syncId',
        'sliceId',
        'kind',
        'origin',
        'sequence',
        'namespace',
        'prevTs',
        'firstTs',
        'lastTs',
        'docCount',
        'compressedBytes',
      ] as const) {
        assert.deepEqual(stored[field], produced[field], field);
      }
      const codec = defaultCodec();
      const decoded = codec.decodeAs(
        'tidemark.slices.SliceStored',
        codec.encode('tidemark.slices.SliceStored', stored),
      );
      assert.deepEqual({ ...decoded }, stored); // avsc decodes into record classes: compare fields
      assert.deepEqual(
        claimCheckOf(decoded),
        claimCheckFromMeta(meta, storedAt),
        'read back as the claim check',
      );
    });
  }

  it('refuses a SliceStored the domain cannot hold', () => {
    const stored = sliceStoredOf(claimCheckFromMeta(metas[0]!, new Date(0)));
    assert.throws(() => claimCheckOf({ ...stored, namespace: null }), /must name its namespace/);
    assert.throws(() => claimCheckOf({ ...stored, origin: null }), /must carry its origin/);
    assert.throws(() => claimCheckOf({ ...stored, sequence: -1n }), /not in 0\.\.2\^53-1/);
    const oplog = sliceStoredOf(claimCheckFromMeta(metas[2]!, new Date(0)));
    assert.throws(() => claimCheckOf({ ...oplog, prevTs: null }), /must carry prevTs and lastTs/);
  });
});
