import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatReadLimit,
  MAX_READ_LIMIT,
  MIN_READ_LIMIT,
  parseReadLimit,
  readLimitBytesPerSecond,
  validateReadLimit,
} from './read-limit';

describe('read limit', () => {
  it('takes a positive number of MB/s within its bounds, and null or absent for none', () => {
    for (const ok of [MIN_READ_LIMIT, 0.5, 5, 1234.5, MAX_READ_LIMIT, null, undefined]) {
      assert.deepEqual(validateReadLimit(ok), [], String(ok));
    }
  });

  it('refuses zero, negative, NaN, infinite, out-of-bounds and non-number values, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [0, /readLimit must be greater than 0 .*use null for no limit, got 0/],
      [-1, /greater than 0.*got -1/],
      [NaN, /readLimit must be a number of MB\/s.*got NaN/],
      [Infinity, /got Infinity/],
      [MIN_READ_LIMIT / 2, /from 0\.01 to 10000.*got 0\.005/],
      [MAX_READ_LIMIT + 1, /got 10001/],
      ['5MB/s', /got "5MB\/s"/],
      [true, /got true/],
      [{}, /got \{\}/],
    ];
    for (const [value, expected] of cases) {
      const problems = validateReadLimit(value);
      assert.equal(problems.length, 1, String(value));
      assert.match(problems[0]!, expected);
    }
    assert.match(validateReadLimit(-2, 'settings.readLimit')[0]!, /^settings\.readLimit /);
  });

  it('is decimal: 1 MB/s is 1,000,000 bytes a second', () => {
    assert.equal(readLimitBytesPerSecond(1), 1_000_000);
    assert.equal(readLimitBytesPerSecond(0.25), 250_000);
    assert.equal(formatReadLimit(2.5), '2.5 MB/s');
    assert.equal(formatReadLimit(undefined), 'none');
    assert.equal(formatReadLimit(null), 'none');
  });

  it('parses the CLI form: a number with kB/s, MB/s or GB/s, or none', () => {
    assert.equal(parseReadLimit('5MB/s'), 5);
    assert.equal(parseReadLimit(' 5 MB/s '), 5);
    assert.equal(parseReadLimit('1.5GB/s'), 1500);
    assert.equal(parseReadLimit('500kB/s'), 0.5);
    assert.equal(parseReadLimit('10kB/s'), 0.01);
    assert.equal(parseReadLimit('0.25MB/s'), 0.25);
    assert.equal(parseReadLimit('none'), null);
  });

  it('refuses bare numbers, binary and unknown units, signs, and values out of bounds', () => {
    for (const bad of [
      '5',
      '5MB',
      '5 MiB/s',
      '5mb/s',
      '5Mb/s',
      '-5MB/s',
      '+5MB/s',
      '1e3MB/s',
      'MB/s',
      '',
      'fast',
    ]) {
      assert.throws(
        () => parseReadLimit(bad),
        /is not a read limit: give a number with kB\/s, MB\/s or GB\/s/,
        bad,
      );
    }
    assert.throws(() => parseReadLimit('0MB/s'), /greater than 0.*from "0MB\/s"/);
    assert.throws(() => parseReadLimit('5kB/s'), /from 0\.01 to 10000.*from "5kB\/s"/);
    assert.throws(() => parseReadLimit('11GB/s', '--read-limit'), /^RangeError: --read-limit must be/);
  });
});
