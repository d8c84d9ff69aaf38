import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff';
import { RetriesExhaustedError, isProgrammingError, retry, type RetryEvent } from './retry';

class Transient extends Error {
  readonly retriable = true;
}
class Fatal extends Error {
  readonly retriable = false;
}

/** Tiny timings so the suite stays fast. */
const FAST = { backoff: new Backoff({ initialMs: 1, maxMs: 4 }) };

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    let calls = 0;
    const value = await retry(async () => {
      calls += 1;
      return 'ok';
    }, FAST);
    assert.equal(value, 'ok');
    assert.equal(calls, 1);
  });

  it('retries retriable errors until success, passing the attempt number', async () => {
    const attempts: number[] = [];
    const value = await retry(async ({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Transient('broker not available');
      return attempt;
    }, FAST);
    assert.equal(value, 3);
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  it('throws a non-retriable error unchanged after one attempt', async () => {
    const fatal = new Fatal('authentication failed');
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls += 1;
        throw fatal;
      }, FAST),
      (err: unknown) => err === fatal,
    );
    assert.equal(calls, 1);
  });

  it('treats errors without a retriable flag as fatal by default', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls += 1;
        throw new Error('unknown');
      }, FAST),
      /unknown/,
    );
    assert.equal(calls, 1);
  });

  it('never retries programming errors, even when isRetriable says yes', async () => {
    for (const error of [
      new TypeError('x is not a function'),
      new RangeError('r'),
      new ReferenceError('y'),
      new SyntaxError('s'),
    ]) {
      assert.ok(isProgrammingError(error));
      let calls = 0;
      await assert.rejects(
        retry(
          async () => {
            calls += 1;
            throw Object.assign(error, { retriable: true });
          },
          { ...FAST, isRetriable: () => true },
        ),
        (err: unknown) => err === error,
      );
      assert.equal(calls, 1, error.name);
    }
  });

  it('uses a custom classification', async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('ECONNRESET');
        return 'done';
      },
      { ...FAST, isRetriable: (err) => err instanceof Error && err.message === 'ECONNRESET' },
    );
    assert.equal(value, 'done');
  });

  it('gives up after maxAttempts with RetriesExhaustedError carrying the last error', async () => {
    let calls = 0;
    const last = new Transient('still down');
    await assert.rejects(
      retry(
        async () => {
          calls += 1;
          throw calls === 3 ? last : new Transient('down');
        },
        { ...FAST, maxAttempts: 3, what: 'produce to tidemark.slices.oplog' },
      ),
      (err: unknown) =>
        err instanceof RetriesExhaustedError &&
        err.attempts === 3 &&
        err.cause === last &&
        err.retriable === false &&
        /^produce to tidemark\.slices\.oplog failed after 3 attempts in \d+ ms: Error: still down$/.test(
          err.message,
        ),
    );
    assert.equal(calls, 3);
  });

  it('gives up when the next wait would pass maxElapsedMs', async () => {
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      retry(
        async () => {
          calls += 1;
          throw new Transient('slow');
        },
        {
          maxAttempts: Infinity,
          maxElapsedMs: 30,
          backoff: new Backoff({ initialMs: 10, maxMs: 10 }),
          random: () => 0.99,
        },
      ),
      RetriesExhaustedError,
    );
    assert.ok(calls >= 2 && calls <= 4, `calls=${calls}`);
    assert.ok(Date.now() - started < 200);
  });

  it('waits with full jitter below an exponential cap and reports each retry', async () => {
    const events: RetryEvent[] = [];
    const randoms = [0.5, 1 - Number.EPSILON, 0, 0.25];
    await assert.rejects(
      retry(
        async () => {
          throw new Transient('x');
        },
        {
          maxAttempts: 5,
          backoff: new Backoff({ initialMs: 2, maxMs: 10, factor: 2 }),
          random: () => randoms.shift()!,
          onRetry: (event) => events.push(event),
        },
      ),
      RetriesExhaustedError,
    );
    // caps: 2, 4, 8, 10 (capped from 16); delays: floor(random * cap)
    assert.deepEqual(
      events.map((e) => [e.attempt, e.delayMs]),
      [
        [1, 1],
        [2, 3],
        [3, 0],
        [4, 2],
      ],
    );
    assert.ok(events.every((e) => e.error instanceof Transient));
  });

  it('stops at once when the signal aborts during a wait', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      retry(
        async () => {
          calls += 1;
          setTimeout(() => controller.abort(new Error('shutdown')), 5);
          throw new Transient('x');
        },
        {
          backoff: new Backoff({ initialMs: 10_000, maxMs: 10_000 }),
          random: () => 0.99,
          signal: controller.signal,
        },
      ),
      /shutdown/,
    );
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 1000);
  });

  it('does not start when the signal is already aborted', async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls += 1;
        },
        { signal: AbortSignal.abort() },
      ),
      { name: 'AbortError' },
    );
    assert.equal(calls, 0);
  });

  it('propagates an error thrown by onRetry', async () => {
    await assert.rejects(
      retry(
        async () => {
          throw new Transient('x');
        },
        {
          ...FAST,
          onRetry: () => {
            throw new Error('listener bug');
          },
        },
      ),
      /listener bug/,
    );
  });

  it('rejects nonsensical options', async () => {
    await assert.rejects(
      retry(async () => 1, { maxAttempts: 0 }),
      RangeError,
    );
    await assert.rejects(
      retry(async () => 1, { maxAttempts: Infinity }),
      /cannot both be Infinity/,
    );
  });
});
