import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newJobRecord } from './create-job-input';
import { JobValidationError } from './job-errors';
import { applyJobSettings, parseJobSettingsRequest } from './job-settings';

function problemsOf(body: unknown): readonly string[] {
  try {
    parseJobSettingsRequest(body);
  } catch (err) {
    assert.ok(err instanceof JobValidationError);
    return err.problems;
  }
  assert.fail('expected a JobValidationError');
}

describe('job settings', () => {
  it('takes { readLimit: number | null }', () => {
    assert.deepEqual(parseJobSettingsRequest({ readLimit: 7.5 }), { readLimit: 7.5 });
    assert.deepEqual(parseJobSettingsRequest({ readLimit: null }), { readLimit: null });
  });

  it('refuses a bad limit, an unknown field, an empty body and a body that is no object, with every reason', () => {
    assert.deepEqual(problemsOf([]), ['the body must be a JSON object']);
    assert.deepEqual(problemsOf('x'), ['the body must be a JSON object']);
    assert.deepEqual(problemsOf({}), ['give at least one setting (readLimit)']);
    const problems = problemsOf({ readlimit: 5, readLimit: -1 });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^readlimit is not a setting \(the settings are readLimit\)$/);
    assert.match(problems[1]!, /^readLimit must be greater than 0/);
    for (const bad of [0, NaN, '5MB/s', 1e12, true]) {
      assert.equal(problemsOf({ readLimit: bad }).length, 1, String(bad));
    }
  });

  it('changes only what is given; undefined when nothing changes', () => {
    const job = newJobRecord(
      { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] },
      'abcd1234',
      new Date(0),
    );
    assert.equal(applyJobSettings(job, {}), undefined);
    assert.equal(applyJobSettings(job, { readLimit: null }), undefined);
    const capped = applyJobSettings(job, { readLimit: 3 });
    assert.equal(capped?.readLimit, 3);
    assert.equal(applyJobSettings(capped!, { readLimit: 3 }), undefined);
    assert.deepEqual(applyJobSettings(capped!, { readLimit: null }), job);
  });
});
