import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldPath, jsonNestingDepth, mergeProblems, schemaCheck } from './json-schema';

const check = schemaCheck({
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 8, pattern: '^[a-z]+$' },
    kind: { enum: ['a', 'b'] },
    list: { type: 'array', maxItems: 2, items: { type: 'string', maxLength: 3 } },
    limit: { type: ['number', 'null'], minimum: 1, maximum: 10 },
    nested: { type: 'object', additionalProperties: false, properties: { deep: { type: 'integer' } } },
  },
});

describe('schemaCheck', () => {
  it('passes a conforming value', () => {
    assert.deepEqual(check({ name: 'abc', kind: 'a', list: ['x'], limit: null, nested: { deep: 2 } }), []);
  });
  it('lists every problem as a sentence naming the field', () => {
    const problems = check({
      kind: 'c',
      list: ['abcd', 'x', 'y'],
      limit: 11,
      nested: { deep: 1.5, other: 1 },
      extra: true,
    });
    assert.deepEqual(problems.sort(), [
      'extra is not a field',
      'kind must be one of a, b',
      'limit must be <= 10',
      'list must have at most 2 items',
      'list[0] must be at most 3 characters',
      'name is required',
      'nested.deep must be integer',
      'nested.other is not a field',
    ]);
  });
  it('names sizes, patterns and types', () => {
    assert.deepEqual(check({ name: 'ABCDEFGHIJ' }), [
      'name must be at most 8 characters',
      'name must match ^[a-z]+$',
    ]);
    assert.deepEqual(check({ name: 7, limit: 'x' }), ['name must be string', 'limit must be number or null']);
    assert.deepEqual(check([]), ['the body must be object']);
  });
});

describe('fieldPath', () => {
  it('writes JSON pointers as the API names fields', () => {
    assert.equal(fieldPath(''), 'the body');
    assert.equal(fieldPath('/include/2'), 'include[2]');
    assert.equal(fieldPath('/schedule/retention', 'daily'), 'schedule.retention.daily');
    assert.equal(fieldPath('/namespaces/a.b~1c'), 'namespaces["a.b/c"]');
  });
});

describe('mergeProblems', () => {
  it('keeps the precise sentences and adds the structural ones about other fields', () => {
    assert.deepEqual(
      mergeProblems(
        ['include must be an array of namespaces'],
        ['include[0] must be string', 'target must be at most 4096 characters'],
      ),
      ['include must be an array of namespaces', 'target must be at most 4096 characters'],
    );
    assert.deepEqual(
      mergeProblems(
        ['progress.documents must be a whole number >= 0'],
        ['documents must be integer', 'x is bad'],
      ),
      ['progress.documents must be a whole number >= 0', 'x is bad'],
    );
    assert.deepEqual(mergeProblems(['give at least one'], ['the body must have at least 1 entries']), [
      'give at least one',
    ]);
    assert.deepEqual(mergeProblems([], ['a is required']), ['a is required']);
    assert.deepEqual(mergeProblems(['a is bad'], []), ['a is bad']);
  });
});

describe('jsonNestingDepth', () => {
  const depth = (text: string, stop?: number) => jsonNestingDepth(Buffer.from(text), stop);
  it('counts the levels of objects and arrays', () => {
    assert.equal(depth('1'), 0);
    assert.equal(depth('null'), 0);
    assert.equal(depth('{}'), 1);
    assert.equal(depth('{"a":[1,{"b":[]}]}'), 4);
    assert.equal(depth('[[1],[2],[[3]]]'), 3);
  });
  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(depth('{"a":"[[[{{{"}'), 1);
    assert.equal(depth('{"a":"\\"[[[","b":"\\\\"}'), 1);
    assert.equal(depth('["\\\\",["x"]]'), 2);
  });
  it('reads a very deep text and stops early when asked', () => {
    const deep = '['.repeat(500_000) + ']'.repeat(500_000);
    assert.equal(depth(deep), 500_000);
    assert.equal(depth(deep, 32), 33);
  });
});
