import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from './sleep';

describe('sleep', () => {
  it('resolves after about the given time', async () => {
    const started = Date.now();
    await sleep(20);
    assert.ok(Date.now() - started >= 15);
  });

  it('rejects at once with the signal reason when aborted while sleeping', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('shutting down')), 5);
    await assert.rejects(sleep(10_000, controller.signal), /shutting down/);
    assert.ok(Date.now() - started < 1000);
  });

  it('rejects with an AbortError when already aborted', async () => {
    await assert.rejects(sleep(1, AbortSignal.abort()), { name: 'AbortError' });
  });

  it('rejects a negative or non-finite time', async () => {
    await assert.rejects(sleep(-1), RangeError);
    await assert.rejects(sleep(NaN), RangeError);
  });
});
