import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schemaCheck, type JsonSchema } from '@tidemark/util';
import * as schemas from './api-schemas';
import { newJobRecord, parseCreateJobRequest } from './create-job-input';
import { JobValidationError } from './job-errors';
import { parseJobSettingsRequest, parseResyncRequest } from './job-settings';
import { RestoreValidationError } from './restore-catalog';
import {
  parseBeginRestoreRequest,
  parseFinishRestoreRequest,
  parseRestoreProgressRequest,
} from './restore-input';
import { jobView } from './views';

function problemsOf(parse: () => unknown): readonly string[] {
  try {
    parse();
  } catch (err) {
    if (err instanceof JobValidationError || err instanceof RestoreValidationError) return err.problems;
    throw err;
  }
  assert.fail('expected a validation error');
}

const job = { project: 'shop', source: { uri: 'mongodb://h:27017/?replicaSet=rs0' } };

describe('api-schemas', () => {
  it('every schema compiles under ajv strict mode (JSON Schema 2020-12)', () => {
    const all = Object.entries(schemas).filter(([name]) => name.endsWith('_SCHEMA'));
    assert.ok(all.length >= 15, all.map(([n]) => n).join());
    for (const [name, schema] of all)
      assert.doesNotThrow(() => schemaCheck(schema as JsonSchema), `${name} compiles`);
  });

  it('a new job as the API shows it conforms to JOB_SCHEMA', () => {
    const view = jobView(newJobRecord(parseCreateJobRequest(job), 'k3x9a0b2', new Date()));
    assert.deepEqual(schemaCheck(schemas.JOB_SCHEMA)(view), []);
    assert.deepEqual(schemaCheck(schemas.JOB_LIST_SCHEMA)({ jobs: [view] }), []);
    assert.notDeepEqual(schemaCheck(schemas.JOB_SCHEMA)({ ...view, state: 'sleeping' }), []);
  });

  it('POST /jobs: the schema adds the sizes the hand-written checks lacked, and keeps their sentences', () => {
    assert.deepEqual(
      problemsOf(() => parseCreateJobRequest({ ...job, include: ['x'.repeat(256)] })),
      ['include[0] must be at most 255 characters'],
    );
    assert.deepEqual(
      problemsOf(() =>
        parseCreateJobRequest({ ...job, exclude: Array.from({ length: 1001 }, (_, i) => `d${i}`) }),
      ),
      ['exclude must have at most 1000 items'],
    );
    assert.deepEqual(
      problemsOf(() => parseCreateJobRequest({ ...job, source: { uri: 'mongodb://h/', user: 'x' } })),
      ['source.user is not a field'],
    );
    // The precise sentence wins over the schema's about the same field.
    assert.deepEqual(
      problemsOf(() => parseCreateJobRequest({ ...job, include: 'a' })),
      ['include must be an array of namespaces ("db" or "db.collection")'],
    );
    assert.deepEqual(
      problemsOf(() => parseCreateJobRequest({ ...job, source: { uri: 'http://h/' } })),
      ['source.uri must start with mongodb:// or mongodb+srv://'],
    );
  });

  it('settings and resync bodies', () => {
    assert.deepEqual(parseJobSettingsRequest({ readLimit: null }), { readLimit: null });
    assert.equal(parseResyncRequest(undefined), undefined);
    assert.equal(parseResyncRequest({}), undefined);
    assert.equal(parseResyncRequest({ reason: 'oplog rolled' }), 'oplog rolled');
    for (const body of [{ reason: 'x'.repeat(1001) }, { reason: 7 }, ['a'], 'text'])
      assert.deepEqual(
        problemsOf(() => parseResyncRequest(body)),
        ['reason must be a string of at most 1000 characters'],
      );
  });

  it('restore bodies: sizes and fields from the schema, sentences from the hand-written checks', () => {
    const begin = { snapshotId: 's1', target: 'mongodb://t/' };
    assert.equal(parseBeginRestoreRequest(begin).target, 'mongodb://t/');
    assert.deepEqual(
      problemsOf(() => parseBeginRestoreRequest({ ...begin, renames: ['a=b', 7] })),
      ['renames must be a list of non-empty strings'],
    );
    assert.deepEqual(
      problemsOf(() =>
        parseBeginRestoreRequest({ ...begin, include: Array.from({ length: 1001 }, () => 'a') }),
      ),
      ['include must have at most 1000 items'],
    );
    assert.deepEqual(
      problemsOf(() =>
        parseRestoreProgressRequest({
          documents: 1,
          bytes: 1,
          entries: 0,
          namespaces: { [`a.${'b'.repeat(300)}`]: { documents: 1, done: false } },
        }),
      ),
      [`namespaces key "a.${'b'.repeat(78)}" must be at most 255 characters`],
    );
    assert.deepEqual(
      problemsOf(() => parseFinishRestoreRequest({ state: 'done' })),
      ['state must be one of complete, failed, cancelled'],
    );
  });
});
