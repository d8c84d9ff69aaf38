import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MalformedOplogEntryError } from './errors';
import { canonical, ejson } from './spec-support';
import { classifyUpdate } from './v1-modifier';

describe('classifyUpdate', () => {
  it('passes $v:1 and $v-less $set/$unset modifiers through unchanged (without $v)', () => {
    const v1 = classifyUpdate(ejson('{"$v": 1, "$set": {"a.b": 1}, "$unset": {"c": true}}'), 1);
    assert.equal(v1.kind, 'modifier');
    assert.equal(
      canonical(v1.kind === 'modifier' ? v1.spec : null),
      canonical(ejson('{"$set": {"a.b": 1}, "$unset": {"c": true}}')),
    );
    assert.equal(classifyUpdate(ejson('{"$set": {"a": 1}}'), 1).kind, 'modifier');
  });

  it('treats an o without operators as a replacement that keeps the _id first', () => {
    const form = classifyUpdate(ejson('{"b": 1, "_id": 7}'), 7);
    assert.equal(form.kind, 'replacement');
    assert.equal(
      canonical(form.kind === 'replacement' ? form.doc : null),
      canonical(ejson('{"_id": 7, "b": 1}')),
    );
    const withoutId = classifyUpdate(ejson('{"b": 1}'), 7);
    assert.equal(
      canonical(withoutId.kind === 'replacement' ? withoutId.doc : null),
      canonical(ejson('{"_id": 7, "b": 1}')),
    );
  });

  it("treats a $set holding _id (FerretDB's whole-document form) as a replacement", () => {
    const form = classifyUpdate(ejson('{"$v": 1, "$set": {"_id": 3, "a": 1}}'), 3);
    assert.deepEqual(form.kind === 'replacement' ? form.reason : form.kind, 'whole-document-set');
  });

  it('parses $v:2 diffs', () => {
    const form = classifyUpdate(ejson('{"$v": 2, "diff": {"u": {"a": 1}}}'), 1);
    assert.equal(form.kind, 'diff');
  });

  const bad: Record<string, string> = {
    'a non-idempotent operator ($inc)': '{"$v": 1, "$inc": {"a": 1}}',
    'operators mixed with fields': '{"$set": {"a": 1}, "b": 2}',
    'an unknown format version': '{"$v": 3, "$set": {"a": 1}}',
    'a $v:2 update without diff': '{"$v": 2}',
    'a $v:2 update with other fields': '{"$v": 2, "diff": {"u": {"a": 1}}, "$set": {"b": 1}}',
    'a $v:1 update without operators': '{"$v": 1}',
    'a positional path': '{"$set": {"a.$.b": 1}}',
    'an empty path component': '{"$set": {"a..b": 1}}',
    'a replacement with another _id': '{"_id": 2, "a": 1}',
  };
  for (const [what, o] of Object.entries(bad)) {
    it(`rejects ${what}`, () => {
      assert.throws(() => classifyUpdate(ejson(o), 1), MalformedOplogEntryError);
    });
  }
});
