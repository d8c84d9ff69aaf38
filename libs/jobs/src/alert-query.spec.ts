import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertValidationError, parseAlertQuery } from './alert-query';

describe('alert list query', () => {
  it('defaults to open alerts, 100 of them; all means every state', () => {
    assert.deepEqual(parseAlertQuery({}), { state: 'open', limit: 100 });
    assert.deepEqual(parseAlertQuery({ state: 'all', limit: '1000' }), { limit: 1000 });
    assert.deepEqual(parseAlertQuery({ state: 'closed', limit: '1' }), { state: 'closed', limit: 1 });
  });

  it('refuses a bad state, a bad limit and unknown parameters, listing every problem', () => {
    assert.throws(
      () => parseAlertQuery({ state: 'OPEN', limit: '0', job: 'x' }),
      (err: unknown) =>
        err instanceof AlertValidationError &&
        err.problems.length === 3 &&
        err.problems.includes('unknown parameter job') &&
        err.problems.includes('state must be open, closed or all') &&
        err.problems.includes('limit must be a whole number from 1 to 1000'),
    );
    for (const limit of ['1001', '1.5', '-1', 'ten', ['1', '2']])
      assert.throws(() => parseAlertQuery({ limit }), AlertValidationError, String(limit));
    assert.throws(() => parseAlertQuery({ state: ['open', 'closed'] }), AlertValidationError);
  });
});
