import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TimeoutError, withTimeout } from './deadline';
import { sleep } from './sleep';

describe('withTimeout', () => {
  it('resolves with the value when the work finishes in time', async () => {
    assert.equal(await withTimeout(Promise.resolve(7), 100, 'answer'), 7);
  });

  it('passes the work’s own rejection through unchanged', async () => {
    const err = new Error('refused');
    await assert.rejects(withTimeout(Promise.reject(err), 100, 'connect'), (e: unknown) => e === err);
  });

  it('rejects with a TimeoutError naming the operation and the limit', async () => {
    await assert.rejects(
      withTimeout(
        sleep(1000).then(() => 1),
        10,
        'connect to kafka',
      ),
      (err: unknown) =>
        err instanceof TimeoutError &&
        err.message === 'connect to kafka timed out after 10 ms' &&
        err.what === 'connect to kafka' &&
        err.timeoutMs === 10 &&
        err.retriable === false,
    );
  });

  it('marks the timeout retriable when asked', async () => {
    await assert.rejects(withTimeout(new Promise(() => undefined), 5, 'produce', { retriable: true }), {
      name: 'TimeoutError',
      retriable: true,
    });
  });

  it('aborts the signal it gave the work when the time is up', async () => {
    let seen: AbortSignal | undefined;
    await assert.rejects(
      withTimeout(
        (signal) => {
          seen = signal;
          return sleep(1000, signal);
        },
        10,
        'slow',
      ),
      TimeoutError,
    );
    assert.ok(seen?.aborted);
    assert.ok(seen?.reason instanceof TimeoutError);
  });

  it('does not leave an unhandled rejection when the work fails after the timeout', async () => {
    const late = sleep(20).then(() => {
      throw new Error('late failure');
    });
    await assert.rejects(withTimeout(late, 5, 'late'), TimeoutError);
    await sleep(30); // the runner would report an unhandled rejection here
  });

  it('rejects with the caller’s abort reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 5);
    await assert.rejects(
      withTimeout(new Promise(() => undefined), 1000, 'x', { signal: controller.signal }),
      /stop/,
    );
  });
});
