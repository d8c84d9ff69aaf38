import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TidemarkError } from '@tidemark/domain';
import { guardCatalogCall } from './catalog-guard';

const retriable = () => ({ retriable: true, reason: 'connection reset' });

describe('guardCatalogCall', () => {
  it('turns a driver failure into a TidemarkError naming the catalog and the call, retriable as classified', async () => {
    const err = await guardCatalogCall('restore catalog', retriable, 'get r1', () =>
      Promise.reject(new Error('ECONNRESET')),
    ).catch((e: unknown) => e);
    assert.ok(err instanceof TidemarkError);
    assert.equal(err.message, 'restore catalog: get r1 failed: connection reset');
    assert.equal(err.retriable, true);
  });

  it("passes Tidemark's own errors and programming errors as they are (a bug is never retried as a store failure)", async () => {
    for (const thrown of [
      new TidemarkError('version 9 is not known', { retriable: false }),
      new TypeError('x is undefined'),
      new RangeError('out of range'),
    ]) {
      const err = await guardCatalogCall('snapshot catalog', retriable, 'list', () =>
        Promise.reject(thrown),
      ).catch((e: unknown) => e);
      assert.equal(err, thrown);
    }
  });
});
