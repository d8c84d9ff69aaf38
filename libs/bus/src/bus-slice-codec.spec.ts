import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCodec, sliceProducedFromMeta, SingleObjectDecodeError } from './index';
import type { SliceMeta } from '@tidemark/domain';
import { busSliceCodec } from './bus-slice-codec';

const meta: SliceMeta = {
  kind: 'initial',
  origin: 'scan',
  namespace: 'shop.orders',
  jobId: 'job00001',
  syncId: 'job00001-s1',
  sliceId: 'job00001-s1:i:shop.orders:0',
  sequence: 0,
  docCount: 0,
  rawBytes: 0,
  compressedBytes: 0,
  codec: 'none',
  checksum: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

describe('busSliceCodec', () => {
  const codec = busSliceCodec();

  it('decodes a SliceProduced and maps it to the domain', () => {
    const value = defaultCodec().encode(
      'tidemark.slices.SliceProduced',
      sliceProducedFromMeta(meta, Buffer.alloc(0), new Date()),
    );
    assert.deepEqual(codec.metaOf(codec.decode(value, 'test')), meta);
  });

  it('refuses other records and non-Avro bytes with a SingleObjectDecodeError', () => {
    const alert = defaultCodec().encode('tidemark.alerts.AlertRaised', {
      alertId: 'a',
      jobId: null,
      severity: 'INFO',
      code: 'X',
      message: 'm',
      context: {},
      at: new Date(),
      state: null,
      subject: null,
      closedAt: null,
      closeReason: null,
    });
    assert.throws(
      () => codec.decode(alert, 'test'),
      (e: unknown) => e instanceof SingleObjectDecodeError && e.failure === 'unexpected-record',
    );
    assert.throws(() => codec.decode(Buffer.from('hello world'), 'test'), SingleObjectDecodeError);
  });

  it('forms keys per kind and reads the job id back from either form', () => {
    assert.equal(codec.keyOf(meta), 'job00001/shop.orders');
    assert.equal(codec.keyOf({ ...meta, kind: 'catalog', sliceId: 'job00001-s1:c:scan' }), 'job00001');
    assert.equal(codec.jobIdOfKey('job00001/shop.orders'), 'job00001');
    assert.equal(codec.jobIdOfKey('job00001'), 'job00001');
    assert.equal(codec.jobIdOfKey('/shop.orders'), undefined);
    assert.equal(codec.jobIdOfKey(''), undefined);
    assert.throws(() => codec.keyOf({ ...meta, jobId: 'a/b' }), /cannot be used in a key/);
  });
});
