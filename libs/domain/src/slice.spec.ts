import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SliceValidationError } from './errors';
import {
  DEFAULT_SLICE_LIMITS,
  assertValidSliceMeta,
  validateSliceLimits,
  validateSliceMeta,
  type InitialSliceMeta,
  type OplogSliceMeta,
  type SliceMeta,
} from './slice';

const MiB = 1024 * 1024;
const CHECKSUM = 'a'.repeat(64);

function oplog(overrides: Partial<OplogSliceMeta> = {}): OplogSliceMeta {
  return {
    kind: 'oplog',
    jobId: 'job-1',
    syncId: 'sync-1',
    sliceId: 'slice-1',
    sequence: 0,
    docCount: 10,
    rawBytes: 4000,
    compressedBytes: 1000,
    codec: 'gzip',
    checksum: CHECKSUM,
    prevTs: { t: 100, i: 0 },
    firstTs: { t: 100, i: 1 },
    lastTs: { t: 101, i: 4 },
    ...overrides,
  };
}

function initial(overrides: Partial<InitialSliceMeta> = {}): InitialSliceMeta {
  return {
    kind: 'initial',
    jobId: 'job-1',
    syncId: 'sync-1',
    sliceId: 'slice-2',
    sequence: 3,
    docCount: 500,
    rawBytes: 12 * MiB,
    compressedBytes: 9 * MiB,
    codec: 'brotli',
    checksum: CHECKSUM,
    origin: 'scan',
    namespace: 'shop.orders.v2',
    ...overrides,
  };
}

describe('default limits', () => {
  it('target 10 MiB and allow at most 17 MiB compressed', () => {
    assert.equal(DEFAULT_SLICE_LIMITS.targetSliceBytes, 10 * MiB);
    assert.equal(DEFAULT_SLICE_LIMITS.maxSliceBytes, 17 * MiB);
    assert.deepEqual(validateSliceLimits(DEFAULT_SLICE_LIMITS), []);
  });

  it('reject a maximum below the target', () => {
    assert.deepEqual(validateSliceLimits({ targetSliceBytes: 10, maxSliceBytes: 5, maxRawBytes: 1 }), [
      'maxSliceBytes must be an integer >= targetSliceBytes',
    ]);
  });
});

describe('validateSliceMeta', () => {
  it('accepts valid oplog and initial-sync slices', () => {
    assert.deepEqual(validateSliceMeta(oplog()), []);
    assert.deepEqual(validateSliceMeta(initial()), []);
    assert.deepEqual(
      validateSliceMeta(
        oplog({ docCount: 1, prevTs: { t: 5, i: 1 }, firstTs: { t: 5, i: 5 }, lastTs: { t: 5, i: 5 } }),
      ),
      [],
    );
    assert.deepEqual(
      validateSliceMeta(oplog({ docCount: 0, rawBytes: 0, compressedBytes: 20, firstTs: undefined })),
      [],
      'a range that advanced over entries of other namespaces',
    );
    assert.deepEqual(
      validateSliceMeta(initial({ docCount: 0, rawBytes: 0, compressedBytes: 20 })),
      [],
      'empty collection',
    );
    assert.deepEqual(validateSliceMeta(oplog({ codec: 'none', rawBytes: 77, compressedBytes: 77 })), []);
  });

  it('accepts exactly the maximum size and rejects one byte more', () => {
    assert.deepEqual(validateSliceMeta(initial({ compressedBytes: 17 * MiB })), []);
    assert.deepEqual(validateSliceMeta(initial({ compressedBytes: 17 * MiB + 1 })), [
      `compressedBytes ${17 * MiB + 1} exceeds the maximum slice size ${17 * MiB}`,
    ]);
  });

  it('honours custom limits, including the uncompressed bound', () => {
    const limits = { targetSliceBytes: 100, maxSliceBytes: 200, maxRawBytes: 1000 };
    assert.deepEqual(validateSliceMeta(oplog({ compressedBytes: 201, rawBytes: 1001 }), limits), [
      'compressedBytes 201 exceeds the maximum slice size 200',
      'rawBytes 1001 exceeds the maximum uncompressed size 1000',
    ]);
  });

  it('rejects negative, fractional and unsafe sizes and sequences', () => {
    assert.deepEqual(
      validateSliceMeta(oplog({ sequence: -1, docCount: 1.5, rawBytes: -3, compressedBytes: 2 ** 53 })),
      [
        'sequence must be a safe integer >= 0',
        'docCount must be a safe integer >= 0',
        'rawBytes must be a safe integer >= 0',
        'compressedBytes must be a safe integer >= 0',
      ],
    );
  });

  it('requires ids, a known codec and a SHA-256 hex checksum', () => {
    const bad = {
      ...oplog({ jobId: '', sliceId: ' ', checksum: 'A'.repeat(64) }),
      codec: 'zstd',
    } as unknown as SliceMeta;
    assert.deepEqual(validateSliceMeta(bad), [
      'jobId must be a non-empty string',
      'sliceId must be a non-empty string',
      'codec "zstd" is not one of none, gzip, brotli',
      'checksum must be a SHA-256 digest as 64 lowercase hex digits',
    ]);
    assert.deepEqual(validateSliceMeta(oplog({ checksum: 'ab' })), [
      'checksum must be a SHA-256 digest as 64 lowercase hex digits',
    ]);
  });

  it('requires equal sizes for codec none and bytes for documents', () => {
    assert.deepEqual(validateSliceMeta(oplog({ codec: 'none', rawBytes: 10, compressedBytes: 9 })), [
      'codec "none" requires compressedBytes to equal rawBytes',
    ]);
    assert.deepEqual(
      validateSliceMeta(initial({ docCount: 3, rawBytes: 0, compressedBytes: 0, codec: 'none' })),
      ['a slice with documents cannot have rawBytes 0'],
    );
  });

  it('requires oplog slices to hold entries in order', () => {
    assert.deepEqual(validateSliceMeta(oplog({ docCount: 0, rawBytes: 0 })), [
      'an oplog slice without entries has no firstTs',
    ]);
    assert.deepEqual(validateSliceMeta(oplog({ prevTs: { t: 101, i: 4 } })), [
      'prevTs 101:4 must be before lastTs 101:4',
      'firstTs 100:1 must be after prevTs 101:4',
    ]);
    assert.deepEqual(validateSliceMeta(oplog({ firstTs: { t: 101, i: 5 }, lastTs: { t: 101, i: 4 } })), [
      'firstTs 101:5 is after lastTs 101:4',
    ]);
    // One selected entry, then entries of other namespaces up to lastTs: a complete range, valid.
    assert.deepEqual(validateSliceMeta(oplog({ docCount: 1 })), []);
    assert.deepEqual(validateSliceMeta(oplog({ firstTs: { t: -1, i: 0 } })), [
      'firstTs must be an oplog timestamp { t, i } of uint32 values',
    ]);
    assert.deepEqual(
      validateSliceMeta(
        oplog({
          prevTs: { t: 2 ** 31, i: 0 },
          firstTs: { t: 2 ** 31, i: 1 },
          lastTs: { t: 2 ** 32 - 1, i: 2 ** 32 - 1 },
        }),
      ),
      [],
      'timestamps above 2^31',
    );
  });

  it('requires initial-sync slices to name a db.collection', () => {
    for (const namespace of ['shop', '.orders', 'shop.', '']) {
      assert.deepEqual(validateSliceMeta(initial({ namespace })), [
        `namespace "${namespace}" must be "db.collection"`,
      ]);
    }
  });

  it('rejects an unknown kind', () => {
    const bad = { ...initial(), kind: 'delta' } as unknown as SliceMeta;
    assert.deepEqual(validateSliceMeta(bad), ['kind "delta" is not one of initial, oplog, catalog']);
  });

  it('requires a known origin on initial-sync and catalog slices', () => {
    assert.deepEqual(validateSliceMeta(initial({ origin: 'guess' as never })), [
      'origin "guess" is not one of scan, missing',
    ]);
    const catalog: SliceMeta = { ...initial(), kind: 'catalog', origin: 'missing' } as SliceMeta;
    assert.deepEqual(validateSliceMeta(catalog), []);
  });
});

describe('assertValidSliceMeta', () => {
  it('throws a non-retriable SliceValidationError listing every problem', () => {
    assert.doesNotThrow(() => assertValidSliceMeta(oplog()));
    assert.throws(
      () => assertValidSliceMeta(oplog({ docCount: 0, rawBytes: 0, checksum: 'x' })),
      (err: unknown) =>
        err instanceof SliceValidationError &&
        !err.retriable &&
        err.sliceId === 'slice-1' &&
        err.reason ===
          'checksum must be a SHA-256 digest as 64 lowercase hex digits; an oplog slice without entries has no firstTs',
    );
  });
});
