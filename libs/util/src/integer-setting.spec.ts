import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integerSetting } from './integer-setting';

class Bad extends Error {}
const read = (value: string | undefined) =>
  integerSetting({ N: value }, 'N', { fallback: 7, min: 1, max: 10 }, (m) => new Bad(m));

describe('integerSetting', () => {
  it('takes the fallback when the variable is unset, empty or blank', () => {
    for (const v of [undefined, '', '  ', '\t']) assert.equal(read(v), 7);
  });
  it('reads an integer in range, surrounding whitespace allowed', () => {
    assert.equal(read('1'), 1);
    assert.equal(read(' 10 '), 10);
  });
  it("refuses anything else with the caller's error, naming the variable, the range and the value", () => {
    for (const v of ['0', '11', '2.5', 'ten', '9007199254740993']) {
      assert.throws(
        () => read(v),
        (err: unknown) =>
          err instanceof Bad && err.message === `N must be an integer in [1, 10], got ${JSON.stringify(v)}`,
      );
    }
  });
});
