import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRetriable, TidemarkError, UnknownFormatVersionError } from './errors';
import {
  checkFormatVersion,
  checkRecordVersion,
  documentLocation,
  FORMAT_VERSION_FIELD,
  recordFormat,
  versionFilters,
  VERSION_WHEN_ABSENT,
} from './format-version';

describe('checkFormatVersion', () => {
  it('returns a version this build reads', () => {
    assert.equal(checkFormatVersion('head record', 1, [1]), 1);
    assert.equal(checkFormatVersion('head record', 2, [1, 2]), 2);
    assert.equal(checkFormatVersion('head record', 2n, [1, 2]), 2, 'an Int64 read as bigint');
  });

  it('reads a record without a version as version 1, the layout written before versions existed', () => {
    assert.equal(VERSION_WHEN_ABSENT, 1);
    assert.equal(checkFormatVersion('head record', undefined, [1]), 1);
    assert.throws(() => checkFormatVersion('head record', undefined, [2]), UnknownFormatVersionError);
  });

  it('refuses an unknown version with a typed, non-retriable error naming the kind, version, known versions and place', () => {
    const err = captured(() =>
      checkFormatVersion(
        'oplog-store slice',
        7,
        [1],
        documentLocation('tidemark_oplogstore', 'slices', 'j1-s1:x'),
      ),
    );
    assert.ok(err instanceof UnknownFormatVersionError);
    assert.ok(err instanceof TidemarkError);
    assert.equal(err.name, 'UnknownFormatVersionError');
    assert.equal(err.retriable, false);
    assert.equal(isRetriable(err), false);
    assert.equal(err.recordKind, 'oplog-store slice');
    assert.equal(err.found, 7);
    assert.deepEqual(err.known, [1]);
    assert.equal(err.where, 'tidemark_oplogstore.slices _id "j1-s1:x"');
    assert.equal(
      err.message,
      'oplog-store slice at tidemark_oplogstore.slices _id "j1-s1:x": format version 7 is unknown to this build, ' +
        'which reads version 1; refusing to read it (a newer Tidemark wrote it?)',
    );
  });

  it('refuses values that are not positive integers, whatever the known list says', () => {
    for (const found of [null, 0, -1, 1.5, '1', NaN, 0n, { v: 1 }, [1]]) {
      const err = captured(() => checkFormatVersion('lease', found, [1, 2]));
      assert.ok(err instanceof UnknownFormatVersionError, `refuses ${String(found)}`);
      assert.equal(err.found, found);
    }
    assert.match(
      captured(() => checkFormatVersion('lease', '1', [1, 2])).message,
      /version "1" is unknown.*versions 1, 2/,
    );
    assert.match(captured(() => checkFormatVersion('lease', null, [1])).message, /version null is unknown/);
  });
});

describe('checkRecordVersion', () => {
  const format = recordFormat('head record', 1);

  it(`reads the version from the "${FORMAT_VERSION_FIELD}" field`, () => {
    assert.equal(FORMAT_VERSION_FIELD, 'v');
    assert.equal(checkRecordVersion(format, { _id: 'a', v: 1 }), 1);
    assert.equal(checkRecordVersion(format, { _id: 'a' }), 1);
    const err = captured(() => checkRecordVersion(format, { _id: 'a', v: 2 }, 'db.heads _id "a"'));
    assert.ok(err instanceof UnknownFormatVersionError);
    assert.equal(err.where, 'db.heads _id "a"');
  });
});

describe('recordFormat', () => {
  it('reads its current version by default and refuses inconsistent declarations', () => {
    assert.deepEqual(recordFormat('x', 2), { kind: 'x', current: 2, reads: [2] });
    assert.deepEqual(recordFormat('x', 2, [1, 2]).reads, [1, 2]);
    assert.throws(() => recordFormat('x', 2, [1]), RangeError);
    assert.throws(() => recordFormat('x', 0), RangeError);
  });
});

describe('documentLocation', () => {
  it('names the database, collection and id', () => {
    assert.equal(
      documentLocation('m', 'missing_documents', { jobId: 'j', id: '1' }),
      'm.missing_documents _id {"jobId":"j","id":"1"}',
    );
  });
});

function captured(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
    throw err;
  }
  assert.fail('expected an error');
}

describe('versionFilters', () => {
  it('selects the documents a build reads (v absent or known) and the others', () => {
    assert.deepEqual(versionFilters(recordFormat('x', 2, [1, 2])), {
      readable: { $or: [{ v: { $exists: false } }, { v: { $in: [1, 2] } }] },
      unreadable: { v: { $exists: true, $nin: [1, 2] } },
    });
  });
});
