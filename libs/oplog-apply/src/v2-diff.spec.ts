import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DBRef, ObjectId } from 'bson';
import { DiffNotExpressibleError, MalformedOplogEntryError } from './errors';
import { applyModifier } from './modifier-apply';
import { canonical, ejson } from './spec-support';
import { applyV2Diff, diffToModifier, parseDiff } from './v2-diff';

function apply(doc: string, diff: string): string {
  return canonical(applyV2Diff(ejson(doc), ejson(diff)));
}

describe('applyV2Diff', () => {
  it('keeps updated fields in place and appends absent updated fields, then inserted ones, in diff order', () => {
    assert.equal(
      apply(
        '{"_id": 1, "a": 1, "b": 2, "c": 3}',
        '{"d": {"b": false}, "u": {"z": 0, "a": 10}, "i": {"y": 1, "c": 30}}',
      ),
      canonical(ejson('{"_id": 1, "a": 10, "z": 0, "y": 1, "c": 30}')),
    );
  });

  it('writes null where a sub-diff meets a value of another type (re-application), and skips absent fields', () => {
    assert.equal(
      apply(
        '{"a": 5, "b": [1], "c": {"x": 1}}',
        '{"sa": {"u": {"x": 1}}, "sb": {"u": {"x": 1}}, "sc": {"a": true, "u0": 1}, "sd": {"u": {"x": 1}}}',
      ),
      canonical(ejson('{"a": null, "b": null, "c": null}')),
    );
  });

  it('cuts an array to l, pads it with null up to l, and writes null for a sub-diff past the end', () => {
    assert.equal(apply('{"a": [1, 2, 3]}', '{"sa": {"a": true, "l": 1}}'), canonical(ejson('{"a": [1]}')));
    assert.equal(
      apply('{"a": [1]}', '{"sa": {"a": true, "l": 3}}'),
      canonical(ejson('{"a": [1, null, null]}')),
    );
    assert.equal(
      apply('{"a": [1]}', '{"sa": {"a": true, "u2": 3, "s3": {"u": {"x": 1}}}}'),
      canonical(ejson('{"a": [1, null, 3, null]}')),
    );
    assert.equal(
      apply('{"a": [{"x": 0}, 7]}', '{"sa": {"a": true, "s0": {"u": {"x": 1}}, "s1": {"u": {"x": 1}}}}'),
      canonical(ejson('{"a": [{"x": 1}, null]}')),
    );
  });

  it('treats a DBRef as the embedded document it is on the server', () => {
    const oid = new ObjectId('65a1f0c2e4b0a1b2c3d4e5f6');
    const next = applyV2Diff({ ref: new DBRef('coll', oid) }, ejson('{"sref": {"i": {"note": "x"}}}'));
    assert.equal(canonical(next), canonical({ ref: { $ref: 'coll', $id: oid, note: 'x' } }));
  });

  it('does not change its input', () => {
    const doc = ejson('{"a": {"b": [1, 2]}}');
    applyV2Diff(doc, ejson('{"sa": {"sb": {"a": true, "l": 0}}}'));
    assert.equal(canonical(doc), canonical(ejson('{"a": {"b": [1, 2]}}')));
  });
});

describe('parseDiff', () => {
  const bad: Record<string, string> = {
    'an empty diff': '{}',
    'sections out of order': '{"u": {"a": 1}, "d": {"b": false}}',
    'a repeated field': '{"u": {"a": 1}, "i": {"a": 2}}',
    'an unknown section': '{"x": {"a": 1}}',
    'a binary section': '{"b": {"a": {"o": 0}}}',
    'a non-document section': '{"u": 1}',
    'a non-document sub-diff': '{"sa": 1}',
    'an array diff with a: false': '{"sa": {"a": false, "u0": 1}}',
    'descending array indexes': '{"sa": {"a": true, "u2": 1, "u1": 1}}',
    'an index past the new length': '{"sa": {"a": true, "l": 1, "u1": 1}}',
    'a bad array entry': '{"sa": {"a": true, "x1": 1}}',
    'a negative resize': '{"sa": {"a": true, "l": -1}}',
    'l after an entry': '{"sa": {"a": true, "u0": 1, "l": 1}}',
  };
  for (const [what, diff] of Object.entries(bad)) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseDiff(ejson(diff)), MalformedOplogEntryError);
    });
  }

  it('accepts sub-diffs whose field names start with "s", "u", "a" or contain dots', () => {
    const parsed = parseDiff(
      ejson('{"ss": {"u": {"x": 1}}, "su": {"a": true, "u0": 1}, "sa.b": {"d": {"c": false}}}'),
    );
    assert.deepEqual(
      parsed.subDiffs.map(([field, diff]) => [field, diff.kind]),
      [
        ['s', 'document'],
        ['u', 'array'],
        ['a.b', 'document'],
      ],
    );
  });
});

describe('diffToModifier', () => {
  it('writes d as $unset and u/i as $set at dotted paths, array indexes included', () => {
    const plan = diffToModifier(
      ejson(
        '{"d": {"x": false}, "u": {"a": 1}, "i": {"b": 2}, "sc": {"sd": {"u": {"e": 3}}}, "sarr": {"a": true, "u1": 9, "s2": {"i": {"f": 4}}}}',
      ),
    );
    assert.equal(
      canonical(plan.modifier),
      canonical(
        ejson('{"$set": {"a": 1, "b": 2, "c.d.e": 3, "arr.1": 9, "arr.2.f": 4}, "$unset": {"x": ""}}'),
      ),
    );
    assert.deepEqual(plan.resizes, []);
  });

  it('turns each l into a follow-up $push with $each: [] and $slice, outer arrays first', () => {
    const plan = diffToModifier(ejson('{"sarr": {"a": true, "l": 2, "s0": {"a": true, "l": 1}, "u1": 5}}'));
    assert.equal(canonical(plan.modifier), canonical(ejson('{"$set": {"arr.1": 5}}')));
    assert.equal(
      canonical(plan.resizes),
      canonical(
        ejson(
          '[{"$push": {"arr": {"$each": [], "$slice": 2}}}, {"$push": {"arr.0": {"$each": [], "$slice": 1}}}]',
        ),
      ),
    );
    let doc = ejson('{"_id": 1, "arr": [[1, 2], 2, 3, 4]}');
    for (const spec of [plan.modifier, ...plan.resizes]) {
      if (spec !== undefined) doc = applyModifier(doc, spec);
    }
    assert.equal(canonical(doc), canonical(ejson('{"_id": 1, "arr": [[1], 5]}')));
  });

  it('gives no modifier for a diff that only resizes', () => {
    const plan = diffToModifier(ejson('{"sarr": {"a": true, "l": 0}}'));
    assert.equal(plan.modifier, undefined);
    assert.equal(plan.resizes.length, 1);
  });

  it('refuses field names a path cannot address', () => {
    assert.throws(() => diffToModifier(ejson('{"u": {"a.b": 1}}')), DiffNotExpressibleError);
    assert.throws(() => diffToModifier(ejson('{"s$x": {"u": {"a": 1}}}')), DiffNotExpressibleError);
    assert.throws(() => diffToModifier(ejson('{"d": {"": false}}')), DiffNotExpressibleError);
  });

  it('matches applyV2Diff except for the order of fields moved or created by the diff', () => {
    const pre = ejson('{"_id": 1, "a": 1, "b": {"c": 1, "d": 1}, "z": 0}');
    const diff = ejson('{"u": {"a": 2}, "i": {"y": 1, "x": 1}, "sb": {"i": {"c": 2}}}');
    const viaPostImage = applyV2Diff(pre, diff);
    const viaModifier = applyModifier(pre, diffToModifier(diff).modifier ?? {});
    assert.equal(
      canonical(viaPostImage),
      canonical(ejson('{"_id": 1, "a": 2, "b": {"d": 1, "c": 2}, "z": 0, "y": 1, "x": 1}')),
    );
    // $set creates new fields in name order (x before y), and keeps a re-inserted field in place.
    assert.equal(
      canonical(viaModifier),
      canonical(ejson('{"_id": 1, "a": 2, "b": {"c": 2, "d": 1}, "z": 0, "x": 1, "y": 1}')),
    );
  });
});
