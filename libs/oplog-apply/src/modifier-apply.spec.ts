import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyTargetError } from './errors';
import { applyModifier } from './modifier-apply';
import { canonical, ejson } from './spec-support';

function apply(doc: string, spec: string): string {
  return canonical(applyModifier(ejson(doc), ejson(spec)));
}

describe('applyModifier', () => {
  it('creates new fields in name order, numeric names numerically', () => {
    assert.equal(
      apply('{"_id": 1}', '{"$set": {"b": 1, "a": 1, "c.10": 1, "c.9": 1}}'),
      canonical(ejson('{"_id": 1, "a": 1, "b": 1, "c": {"9": 1, "10": 1}}')),
    );
  });

  it('keeps existing fields in place, pads arrays with null, and unsets array elements to null', () => {
    assert.equal(
      apply(
        '{"_id": 1, "a": [1], "b": 2, "c": {"d": 1, "e": 2}}',
        '{"$set": {"a.3": 4, "b": 3}, "$unset": {"c.d": "", "a.0": "", "nope.x": ""}}',
      ),
      canonical(ejson('{"_id": 1, "a": [null, null, null, 4], "b": 3, "c": {"e": 2}}')),
    );
  });

  it('ignores $unset through a scalar and past the end of an array', () => {
    assert.equal(
      apply('{"a": 1, "b": [1]}', '{"$unset": {"a.b": "", "b.5": ""}}'),
      canonical(ejson('{"a": 1, "b": [1]}')),
    );
  });

  it('accepts a $set of _id to its current value, by value across numeric types', () => {
    assert.equal(
      apply('{"_id": 1, "a": 1}', '{"$set": {"_id": {"$numberLong": "1"}, "a": 2}}'),
      canonical(ejson('{"_id": 1, "a": 2}')),
    );
  });

  it('$push appends, creates a missing array, and $slice keeps the first or last elements', () => {
    assert.equal(apply('{"a": [1, 2]}', '{"$push": {"a": 3}}'), canonical(ejson('{"a": [1, 2, 3]}')));
    assert.equal(
      apply('{}', '{"$push": {"x.y": {"$each": [1, 2]}}}'),
      canonical(ejson('{"x": {"y": [1, 2]}}')),
    );
    assert.equal(
      apply('{"a": [1, 2, 3]}', '{"$push": {"a": {"$each": [4], "$slice": -2}}}'),
      canonical(ejson('{"a": [3, 4]}')),
    );
  });

  const refused: Record<string, [string, string, string]> = {
    'overlapping paths': [
      '{"a": {"b": 1}}',
      '{"$set": {"a.b": 1}, "$unset": {"a": ""}}',
      'ConflictingUpdateOperators',
    ],
    'a path through a scalar': ['{"a": 1}', '{"$set": {"a.b": 1}}', 'PathNotViable'],
    'a path through null': ['{"a": null}', '{"$set": {"a.b": 1}}', 'PathNotViable'],
    'a field name inside an array': ['{"a": [1]}', '{"$set": {"a.x": 1}}', 'PathNotViable'],
    'an _id change': ['{"_id": 1}', '{"$set": {"_id": 2}}', 'ImmutableField'],
    'an _id unset': ['{"_id": 1}', '{"$unset": {"_id": ""}}', 'ImmutableField'],
    'an unsupported operator': ['{}', '{"$inc": {"a": 1}}', 'FailedToParse'],
    'a $push onto a scalar': ['{"a": 1}', '{"$push": {"a": 1}}', 'BadValue'],
    'an unsupported $push modifier': [
      '{"a": []}',
      '{"$push": {"a": {"$each": [1], "$sort": 1}}}',
      'FailedToParse',
    ],
    'an empty modifier': ['{}', '{}', 'FailedToParse'],
  };
  for (const [what, [doc, spec, code]] of Object.entries(refused)) {
    it(`refuses ${what} (${code})`, () => {
      assert.throws(
        () => applyModifier(ejson(doc), ejson(spec)),
        (err: unknown) => err instanceof ApplyTargetError && err.code === code && !err.retriable,
      );
    });
  }
});
