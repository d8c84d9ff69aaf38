import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BSON } from 'bson';
import { DEFAULT_SLICE_LIMITS } from '@tidemark/domain';
import { decodeSlicePayload } from './payload';
import { Slicer } from './slicer';

const MiB = 1024 * 1024;
const doc = (i: number, size: number, random: boolean) =>
  Buffer.from(
    BSON.serialize({ _id: i, pad: random ? randomBytes(size).toString('base64') : 'x'.repeat(size) }),
  );

describe('Slicer', () => {
  it('cuts incompressible documents into slices near the target and loses none', () => {
    const slicer = new Slicer({ codec: 'gzip', targetSliceBytes: 1 * MiB, maxSliceBytes: 17 * MiB });
    const input = Array.from({ length: 400 }, (_, i) => doc(i, 12_000, true));
    const slices = [...input.flatMap((d) => slicer.add(d)), ...slicer.flush()];
    assert.ok(slices.length >= 5, `expected several slices, got ${slices.length}`);
    for (const s of slices.slice(0, -1)) {
      assert.ok(
        s.compressedBytes > 0.7 * MiB && s.compressedBytes < 1.3 * MiB,
        `slice of ${s.compressedBytes} bytes`,
      );
    }
    const out = slices.flatMap((s, k) =>
      decodeSlicePayload(
        s.payload,
        {
          sliceId: `s${k}`,
          codec: s.codec,
          checksum: s.checksum,
          docCount: s.docCount,
          rawBytes: s.rawBytes,
          compressedBytes: s.compressedBytes,
        },
        DEFAULT_SLICE_LIMITS,
      ),
    );
    assert.equal(out.length, input.length);
    out.forEach((d, k) => assert.ok(d.equals(input[k]!)));
  });

  it('raises the raw budget for compressible data, bounded by maxRawBytesPerSlice', () => {
    const slicer = new Slicer({
      codec: 'gzip',
      targetSliceBytes: 256 * 1024,
      maxSliceBytes: 17 * MiB,
      maxRawBytesPerSlice: 2 * MiB,
    });
    const input = Array.from({ length: 3000 }, (_, i) => doc(i, 4000, false));
    const slices = [...input.flatMap((d) => slicer.add(d)), ...slicer.flush()];
    assert.ok(slices[0]!.rawBytes < 300 * 1024, 'the first slice assumes no compression');
    const later = slices.slice(1, -1);
    assert.ok(later.length > 0);
    for (const s of later) {
      assert.ok(
        s.rawBytes > 1.9 * MiB && s.rawBytes <= 2 * MiB,
        `raw ${s.rawBytes}: budget should rise to the memory bound`,
      );
    }
    assert.equal(
      slices.reduce((n, s) => n + s.docCount, 0),
      input.length,
    );
  });

  it('keeps a single document larger than the target in a slice of its own', () => {
    const slicer = new Slicer({ codec: 'none', targetSliceBytes: 64 * 1024, maxSliceBytes: 17 * MiB });
    const small = doc(1, 100, true);
    const big = doc(2, 1 * MiB, true);
    const slices = [...slicer.add(small), ...slicer.add(big), ...slicer.flush()];
    assert.deepEqual(
      slices.map((s) => s.docCount),
      [1, 1],
    );
  });

  it('refuses a maximum below the largest BSON document', () => {
    assert.throws(
      () => new Slicer({ codec: 'gzip', targetSliceBytes: MiB, maxSliceBytes: 10 * MiB }),
      RangeError,
    );
  });
});
