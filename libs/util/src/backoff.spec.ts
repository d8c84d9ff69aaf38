import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff';
import * as policies from './backoff-policies';

const ALMOST_ONE = 1 - Number.EPSILON;

describe('Backoff', () => {
  it('multiplies the cap by the factor per failure, up to the maximum', () => {
    const b = new Backoff({ initialMs: 100, factor: 3, maxMs: 2_000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.capMs(n)),
      [100, 300, 900, 2_000, 2_000],
    );
    assert.equal(new Backoff({ initialMs: 100, maxMs: 10_000 }).capMs(10), 10_000);
    assert.equal(new Backoff({ initialMs: 100, maxMs: 10_000 }).capMs(5_000), 10_000, 'no overflow to NaN');
    assert.equal(new Backoff({ initialMs: 0, maxMs: 10_000 }).capMs(5_000), 0);
  });

  it('defaults to factor 2 and full jitter', () => {
    const b = new Backoff({ initialMs: 1, maxMs: 8 });
    assert.deepEqual(b.spec(), { initialMs: 1, factor: 2, maxMs: 8, jitter: 'full' });
  });

  it('full jitter: floor(random * cap), from 0 to just below the cap', () => {
    const b = new Backoff({ initialMs: 2, maxMs: 10, jitter: 'full' });
    // caps 2, 4, 8, 10, 10
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayMs(n, () => 0)),
      [0, 0, 0, 0, 0],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayMs(n, () => 0.5)),
      [1, 2, 4, 5, 5],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayMs(n, () => ALMOST_ONE)),
      [1, 3, 7, 9, 9],
    );
  });

  it('equal jitter: round(cap/2 + random * cap/2), from half the cap to the cap', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 'equal' });
    // caps 100, 200, 400, 800, 1000
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayMs(n, () => 0)),
      [50, 100, 200, 400, 500],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayMs(n, () => 0.5)),
      [75, 150, 300, 600, 750],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayMs(n, () => ALMOST_ONE)),
      [100, 200, 400, 800, 1_000],
    );
  });

  it('draws with Math.random by default, within the jitter bounds', () => {
    const full = new Backoff({ initialMs: 1_000, maxMs: 1_000, jitter: 'full' });
    const equal = full.with({ jitter: 'equal' });
    for (let i = 0; i < 100; i++) {
      const f = full.delayMs(1);
      const e = equal.delayMs(1);
      assert.ok(Number.isInteger(f) && f >= 0 && f < 1_000, `full ${f}`);
      assert.ok(Number.isInteger(e) && e >= 500 && e <= 1_000, `equal ${e}`);
    }
  });

  it('with() changes some numbers and keeps the rest', () => {
    const b = new Backoff({ initialMs: 1_000, factor: 3, maxMs: 30_000, jitter: 'equal' });
    const short = b.with({ initialMs: 5, maxMs: 20 });
    assert.deepEqual(short.spec(), { initialMs: 5, factor: 3, maxMs: 20, jitter: 'equal' });
    assert.deepEqual(b.spec(), { initialMs: 1_000, factor: 3, maxMs: 30_000, jitter: 'equal' }, 'unchanged');
  });

  it('is immutable', () => {
    const b = new Backoff({ initialMs: 1, maxMs: 2 });
    assert.throws(() => {
      (b as { initialMs: number }).initialMs = 5;
    }, TypeError);
  });

  it('rejects a policy or an attempt that makes no sense', () => {
    assert.throws(() => new Backoff({ initialMs: -1, maxMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: Infinity, maxMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 1, maxMs: NaN }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 1, maxMs: 10, factor: 0.5 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 1, maxMs: 10, jitter: 'half' as 'full' }), RangeError);
    const b = new Backoff({ initialMs: 1, maxMs: 10 });
    assert.throws(() => b.delayMs(0), RangeError);
    assert.throws(() => b.capMs(1.5), RangeError);
  });
});

describe('named backoff policies', () => {
  it("keep each loop's numbers", () => {
    const specs = Object.fromEntries(
      Object.entries(policies).map(([name, policy]) => [name, (policy as Backoff).spec()]),
    );
    assert.deepEqual(specs, {
      RETRY_DEFAULT: { initialMs: 100, factor: 2, maxMs: 10_000, jitter: 'full' },
      ALERT_PUBLISH: { initialMs: 100, factor: 2, maxMs: 10_000, jitter: 'full' },
      OPLOG_TAIL_REOPEN: { initialMs: 100, factor: 2, maxMs: 10_000, jitter: 'full' },
      OPLOG_SHIPPING_RESTART: { initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 'full' },
      AGENT_COMMAND_RETRY: { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 'full' },
      AGENT_STARTUP: { initialMs: 500, factor: 2, maxMs: 15_000, jitter: 'equal' },
      PARTITION_RETRY: { initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 'equal' },
      APPLY_FENCE_WAIT: { initialMs: 50, factor: 2, maxMs: 1_000, jitter: 'equal' },
      S3_REQUEST_RETRY: { initialMs: 100, factor: 2, maxMs: 5_000, jitter: 'full' },
    });
  });
});
