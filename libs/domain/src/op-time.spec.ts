import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOpTimeError } from './errors';
import {
  MAX_OP_TIME,
  MIN_OP_TIME,
  UINT32_MAX,
  assertOpTime,
  compareOpTime,
  formatOpTime,
  isAfter,
  isBefore,
  isOpTime,
  maxOpTime,
  minOpTime,
  opTime,
  opTimeEquals,
  opTimeFromBigInt,
  opTimeToBigInt,
  parseOpTime,
} from './op-time';

describe('ordering', () => {
  it('orders by seconds first', () => {
    assert.equal(compareOpTime({ t: 1, i: 99 }, { t: 2, i: 0 }), -1);
    assert.equal(compareOpTime({ t: 2, i: 0 }, { t: 1, i: 99 }), 1);
  });

  it('orders by increment when the seconds are equal', () => {
    assert.equal(compareOpTime({ t: 5, i: 1 }, { t: 5, i: 2 }), -1);
    assert.equal(compareOpTime({ t: 5, i: 2 }, { t: 5, i: 1 }), 1);
    assert.equal(compareOpTime({ t: 5, i: 2 }, { t: 5, i: 2 }), 0);
    assert.ok(isAfter({ t: 5, i: 2 }, { t: 5, i: 1 }));
    assert.ok(isBefore({ t: 5, i: 1 }, { t: 5, i: 2 }));
    assert.ok(!isAfter({ t: 5, i: 2 }, { t: 5, i: 2 }));
    assert.ok(opTimeEquals({ t: 5, i: 2 }, { t: 5, i: 2 }));
  });

  it('orders values above 2^31 as unsigned', () => {
    const high = { t: 2 ** 31 + 5, i: 2 ** 32 - 1 };
    const low = { t: 2 ** 31 - 1, i: 0 };
    assert.ok(isAfter(high, low));
    assert.ok(isAfter({ t: 7, i: 2 ** 31 }, { t: 7, i: 2 ** 31 - 1 }));
  });

  it('sorts a list the same way as the 64-bit values', () => {
    const list = [
      { t: 3, i: 0 },
      { t: 1, i: 7 },
      { t: UINT32_MAX, i: 1 },
      { t: 1, i: 2 },
      { t: 2 ** 31, i: 0 },
    ];
    const byCompare = [...list].sort(compareOpTime).map(formatOpTime);
    const byBigInt = [...list]
      .sort((a, b) => (opTimeToBigInt(a) < opTimeToBigInt(b) ? -1 : 1))
      .map(formatOpTime);
    assert.deepEqual(byCompare, byBigInt);
    assert.deepEqual(byCompare, ['1:2', '1:7', '3:0', '2147483648:0', '4294967295:1']);
  });

  it('finds the latest and earliest', () => {
    const a = { t: 10, i: 1 };
    const b = { t: 10, i: 3 };
    const c = { t: 9, i: 100 };
    assert.equal(maxOpTime(a, b, c), b);
    assert.equal(minOpTime(a, b, c), c);
    assert.equal(maxOpTime(a), a);
  });
});

describe('bigint form', () => {
  it('is t << 32 | i', () => {
    assert.equal(opTimeToBigInt({ t: 1, i: 2 }), (1n << 32n) + 2n);
    assert.equal(opTimeToBigInt(MIN_OP_TIME), 0n);
    assert.equal(opTimeToBigInt(MAX_OP_TIME), (1n << 64n) - 1n);
  });

  it('round-trips values above 2^31 and 2^53', () => {
    for (const value of [
      { t: 0, i: 0 },
      { t: 1_700_000_000, i: 42 },
      { t: 2 ** 31, i: 2 ** 31 },
      { t: UINT32_MAX, i: UINT32_MAX },
    ]) {
      assert.deepEqual(opTimeFromBigInt(opTimeToBigInt(value)), value);
    }
    assert.ok(opTimeToBigInt({ t: 2 ** 31, i: 0 }) > BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('rejects out-of-range values in both directions', () => {
    assert.throws(() => opTimeFromBigInt(-1n), InvalidOpTimeError);
    assert.throws(() => opTimeFromBigInt(1n << 64n), InvalidOpTimeError);
    assert.throws(() => opTimeToBigInt({ t: -1, i: 0 }), InvalidOpTimeError);
    assert.throws(() => opTimeToBigInt({ t: 1.5, i: 0 }), InvalidOpTimeError);
    assert.throws(
      () => opTimeToBigInt({ t: 0, i: 2 ** 32 }),
      /increment must be an integer in 0\.\.4294967295/,
    );
  });
});

describe('text form', () => {
  it('formats as t:i and parses back', () => {
    assert.equal(formatOpTime({ t: 1_700_000_000, i: 3 }), '1700000000:3');
    assert.deepEqual(parseOpTime('1700000000:3'), { t: 1_700_000_000, i: 3 });
    assert.deepEqual(parseOpTime(' 4294967295:4294967295 '), MAX_OP_TIME);
    assert.deepEqual(parseOpTime('2147483648:2147483649'), { t: 2 ** 31, i: 2 ** 31 + 1 });
  });

  it('rejects malformed text with a message showing the expected shape', () => {
    for (const text of ['', '12', '12:', ':3', '1:2:3', '-1:0', '1:-2', '1.5:2', '0x10:1', '1 :2', 'a:b']) {
      assert.throws(
        () => parseOpTime(text),
        (err: unknown) =>
          err instanceof InvalidOpTimeError &&
          err.input === text &&
          /expected "<seconds>:<increment>"/.test(err.message) &&
          err.retriable === false,
        text,
      );
    }
  });

  it('rejects seconds and increments above 2^32 - 1, saying which', () => {
    assert.throws(() => parseOpTime('4294967296:0'), /seconds 4294967296 is out of range 0\.\.4294967295/);
    assert.throws(() => parseOpTime('0:4294967296'), /increment 4294967296 is out of range 0\.\.4294967295/);
    // A long digit string must not round into range.
    assert.throws(() => parseOpTime('99999999999999999999999:0'), /seconds .* is out of range/);
  });
});

describe('validation', () => {
  it('accepts only integer fields in 0..2^32-1', () => {
    assert.ok(isOpTime({ t: 0, i: 0 }));
    assert.ok(isOpTime({ t: UINT32_MAX, i: UINT32_MAX }));
    assert.ok(!isOpTime({ t: UINT32_MAX + 1, i: 0 }));
    assert.ok(!isOpTime({ t: 1, i: NaN }));
    assert.ok(!isOpTime({ t: '1', i: 0 }));
    assert.ok(!isOpTime(null));
    assert.throws(() => assertOpTime('1:2'), /expected an object/);
    assert.throws(() => opTime(-1, 0), /seconds must be an integer/);
    assert.deepEqual(opTime(3, 4), { t: 3, i: 4 });
  });
});
