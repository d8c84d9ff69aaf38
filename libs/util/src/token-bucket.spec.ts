import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket, type TokenBucketOptions } from './token-bucket';

/**
 * Fake time: `sleep` registers a timer; `until(work)` fires the timers in time order (moving the clock to each)
 * until `work` settles, letting every reader run between two timers, so concurrent sleepers share one clock.
 */
function fakeTime() {
  let t = 1_000;
  const timers: { at: number; resolve: () => void }[] = [];
  const sleeps: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => void (t += ms),
    sleeps,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        sleeps.push(ms);
        timers.push({ at: t + ms, resolve });
      }),
    async until<T>(work: Promise<T>): Promise<T> {
      let done = false;
      work.then(
        () => (done = true),
        () => (done = true),
      );
      for (;;) {
        await new Promise((r) => setImmediate(r));
        if (done) return work;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (next === undefined) throw new Error('not done, and no timer left');
        t = Math.max(t, next.at);
        next.resolve();
      }
    },
  };
}
type FakeTime = ReturnType<typeof fakeTime>;

function bucket(
  rate: number | undefined,
  time = fakeTime(),
  options: Partial<TokenBucketOptions> = {},
): TokenBucket {
  return new TokenBucket({ rate, now: time.now, sleep: time.sleep, ...options });
}

/** Takes `items` of `size` one after the other; resolves the fake time it took, ms. */
async function reading(b: TokenBucket, time: FakeTime, items: number, size: number): Promise<number> {
  const start = time.now();
  for (let k = 0; k < items; k++) await b.take(size);
  return time.now() - start;
}

const readAll = (b: TokenBucket, time: FakeTime, items: number, size: number): Promise<number> =>
  time.until(reading(b, time, items, size));

describe('TokenBucket', () => {
  it('paces a reader to the rate within 10% over time (it starts empty: no initial burst)', async () => {
    const time = fakeTime();
    const b = bucket(1_000_000, time); // 1 MB/s
    const ms = await readAll(b, time, 1000, 10_000); // 10 MB in 10 kB reads
    const rate = 10_000_000 / (ms / 1000);
    assert.ok(rate <= 1_000_000, `never faster than the rate: ${rate} B/s`);
    assert.ok(rate >= 900_000, `within 10%: ${rate} B/s`);
    assert.ok(Math.max(...time.sleeps) <= 100, 'no single sleep longer than maxSleepMs');
  });

  it('counts a reader slower than the rate: its own time is credited, up to the burst', async () => {
    const time = fakeTime();
    const b = bucket(1000, time);
    await time.until(b.take(0)); // the bucket's clock starts
    // The reader needs 20 ms per 10-unit item itself (500 units/s), below the rate: it is never made to wait.
    for (let k = 0; k < 100; k++) {
      time.advance(20);
      await time.until(b.take(10));
    }
    assert.deepEqual(time.sleeps, []);
  });

  it('follows a change of rate mid-way, also for a reader already waiting', async () => {
    const time = fakeTime();
    const b = bucket(1000, time); // 1000 units/s
    const first = await readAll(b, time, 100, 50); // 5000 units at 1000/s: ~5 s
    assert.ok(Math.abs(first - 5000) <= 500, `first half at the old rate: ${first} ms`);
    b.setRate(4000);
    const second = await readAll(b, time, 100, 50); // 5000 units at 4000/s: ~1.25 s
    assert.ok(Math.abs(second - 1250) <= 125, `second half at the new rate: ${second} ms`);

    // A reader in a long wait (a 10 s debt at 1000/s) sees a raised rate within one short sleep.
    const t2 = fakeTime();
    const waiting = bucket(1000, t2);
    const taking = waiting.take(10_000); // its first sleep (100 ms) is registered
    waiting.setRate(1_000_000);
    await t2.until(taking);
    assert.ok(
      t2.now() - 1_000 <= 200,
      `the raised rate applied within a sleep or two: ${t2.now() - 1_000} ms`,
    );
  });

  it('lets no burst beyond its capacity through after idling, and starts empty', async () => {
    const time = fakeTime();
    const b = bucket(1000, time, { burstSeconds: 1 });
    assert.equal(b.burst, 1000);
    await time.until(b.take(0)); // in use
    time.advance(60_000); // idle a minute: at most one second of the rate is saved
    await time.until(b.take(1000));
    assert.deepEqual(time.sleeps, [], 'the saved-up burst passes at once');
    const before = time.now();
    await time.until(b.take(500));
    assert.ok(time.now() - before >= 500, 'beyond the burst the reader waits for the rate');

    const fresh = fakeTime();
    const empty = bucket(1000, fresh);
    fresh.advance(5_000); // created long before it is used: it saves nothing meanwhile
    const start = fresh.now();
    await fresh.until(empty.take(200));
    assert.ok(fresh.now() - start >= 200, 'a new bucket holds no tokens before its first take');
  });

  it('lets one item larger than the burst through, then waits as long as it should have taken', async () => {
    const time = fakeTime();
    const b = bucket(1000, time);
    const ms = await readAll(b, time, 1, 5000); // 5 s of the rate in one take
    assert.ok(ms >= 5000 && ms <= 5100, `${ms} ms`);
    assert.equal(await time.until(b.take(0)), false, 'a take that did not wait says so');
  });

  it('is unlimited without a rate, and going unlimited releases waiting readers', async () => {
    const time = fakeTime();
    const b = bucket(undefined, time);
    assert.equal(b.limited, false);
    await readAll(b, time, 1000, 1_000_000);
    assert.deepEqual(time.sleeps, []);

    const t2 = fakeTime();
    const capped = bucket(10, t2);
    const taking = capped.take(1_000_000); // a day of waiting at 10/s
    capped.setRate(undefined);
    await t2.until(taking);
    assert.ok(t2.now() - 1_000 <= 200);
    // Limited again: no credit for the unlimited time.
    t2.advance(10_000);
    capped.setRate(10);
    const before = t2.now();
    await t2.until(capped.take(5));
    assert.ok(t2.now() - before >= 500, 'the bucket starts empty when a rate is set again');
  });

  it('refuses a zero, negative, NaN or infinite rate, and a bad take', () => {
    for (const bad of [0, -1, NaN, Infinity, -Infinity]) {
      assert.throws(() => bucket(bad), /rate must be a finite number > 0/, String(bad));
      assert.throws(() => bucket(5).setRate(bad), /rate must be a finite number > 0/, String(bad));
    }
    assert.throws(() => bucket(5, fakeTime(), { burstSeconds: 0 }), /burstSeconds must be > 0/);
    const b = bucket(5);
    assert.equal(b.rate, 5, 'a refused change leaves the rate as it was');
    return assert.rejects(b.take(-1), /units must be a finite number >= 0/);
  });

  it('shares the rate between concurrent readers', async () => {
    const time = fakeTime();
    const b = bucket(1000, time);
    const start = time.now();
    await time.until(Promise.all([reading(b, time, 50, 20), reading(b, time, 50, 20)])); // 2000 units
    const ms = time.now() - start;
    assert.ok(ms >= 2000 && ms <= 2200, `two readers together at the rate: ${ms} ms`);
  });

  it('rejects a waiting take when its signal aborts', async () => {
    const b = new TokenBucket({ rate: 1 });
    const controller = new AbortController();
    const taking = b.take(1000, controller.signal); // would wait about 17 minutes
    controller.abort(new Error('job stopped'));
    await assert.rejects(taking, /job stopped/);
  });
});
