import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PARTITION_RETRY } from '@tidemark/util';
import { PartitionBackoff } from './partition-backoff';

const SHORT = PARTITION_RETRY.with({ initialMs: 100, maxMs: 1_000 });

describe('PartitionBackoff', () => {
  it('doubles the cap per consecutive failure up to the maximum, waiting at least half of it', () => {
    const low = new PartitionBackoff(SHORT, () => 0);
    const high = new PartitionBackoff(SHORT, () => 0.999_999);
    const lows = [1, 2, 3, 4, 5].map(() => low.next('t/0'));
    const highs = [1, 2, 3, 4, 5].map(() => high.next('t/0'));
    assert.deepEqual(lows, [50, 100, 200, 400, 500]);
    assert.deepEqual(highs, [100, 200, 400, 800, 1_000]);
  });

  it('keeps partitions apart and starts over after a success', () => {
    const b = new PartitionBackoff(SHORT, () => 0);
    b.next('t/0');
    b.next('t/0');
    assert.equal(b.failuresOf('t/0'), 2);
    assert.equal(b.next('t/1'), 50);
    b.reset('t/0');
    assert.equal(b.failuresOf('t/0'), 0);
    assert.equal(b.next('t/0'), 50);
  });
});
