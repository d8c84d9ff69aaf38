import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CREDENTIALS_IN_URI, parseCreateJobRequest } from './create-job-input';
import { JobValidationError } from './job-errors';

function problemsOf(body: unknown): readonly string[] {
  try {
    parseCreateJobRequest(body);
  } catch (err) {
    assert.ok(err instanceof JobValidationError);
    return err.problems;
  }
  assert.fail('expected a JobValidationError');
}

describe('parseCreateJobRequest', () => {
  it('accepts { project, source: { uri }, include?, exclude? }', () => {
    assert.deepEqual(
      parseCreateJobRequest({ project: 'p', source: { uri: 'mongodb://h/' }, include: ['a.b'] }),
      {
        project: 'p',
        sourceUri: 'mongodb://h/',
        include: ['a.b'],
        exclude: [],
      },
    );
  });

  it('lists every shape problem at once', () => {
    assert.deepEqual(problemsOf(null), ['the body must be a JSON object']);
    assert.deepEqual(problemsOf({ source: 'mongodb://h/', include: 'a', exclude: [1] }), [
      'project is required (a string)',
      'source.uri is required (a mongodb:// or mongodb+srv:// URI)',
      'include must be an array of namespaces ("db" or "db.collection")',
      'exclude must be an array of namespaces ("db" or "db.collection")',
    ]);
  });

  it('refuses credentials in the source URI with the agent’s variables in the message', () => {
    assert.deepEqual(problemsOf({ project: 'p', source: { uri: 'mongodb://u:pw@h/' } }), [
      CREDENTIALS_IN_URI,
    ]);
    assert.match(CREDENTIALS_IN_URI, /TIDEMARK_SOURCE_USERNAME and TIDEMARK_SOURCE_PASSWORD/);
  });

  it('checks a schedule when one is given', () => {
    const problems = problemsOf({
      project: 'p',
      source: { uri: 'mongodb://h/' },
      schedule: {
        intervalHours: 0,
        pointInTimeWindowHours: 1,
        retention: { snapshots: 1, daily: 0, weekly: 0, monthly: 0 },
      },
    });
    assert.deepEqual(problems, ['schedule.intervalHours must be an integer >= 1']);
    assert.deepEqual(
      problemsOf({ project: 'p', source: { uri: 'mongodb://h/' }, schedule: { intervalHours: 1 } }),
      ['schedule must have intervalHours, pointInTimeWindowHours and retention'],
    );
  });
});
