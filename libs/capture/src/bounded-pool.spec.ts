import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachBounded } from './bounded-pool';

describe('forEachBounded', () => {
  it('runs every item with at most `concurrency` at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      done.push(n);
    });
    assert.equal(most, 3);
    assert.deepEqual(done.sort(), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops starting items after a failure, signals the running ones, and throws the first failure', async () => {
    const started: number[] = [];
    let signalled = false;
    await assert.rejects(
      forEachBounded([1, 2, 3, 4, 5], 2, async (n, signal) => {
        started.push(n);
        if (n === 1) throw new Error('first failure');
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        signalled = true;
      }),
      /first failure/,
    );
    assert.deepEqual(started, [1, 2]);
    assert.ok(signalled);
  });

  it('handles no items and rejects a bad concurrency', async () => {
    await forEachBounded([], 2, async () => assert.fail('no item'));
    await assert.rejects(
      forEachBounded([1], 0, async () => undefined),
      RangeError,
    );
  });
});
