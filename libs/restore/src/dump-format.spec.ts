import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collectionFileBase,
  dumpNamespaceName,
  isTruncatedFileBase,
  partialPath,
  queryEscape,
  queryUnescape,
  DumpFormatError,
} from './dump-format';

describe('dump file names', () => {
  it("are mongodump's: the file names in mongo-tools' testdata (specialcharacter, longcollectionname)", () => {
    assert.equal(collectionFileBase('cafés'), 'caf%C3%A9s');
    const long = `a${'Very'.repeat(44)}LongCollectionNameConsistingOfExactlyTwoHundredAndFortySevenCharacters`;
    assert.equal(long.length, 247);
    const base = collectionFileBase(long);
    assert.equal(base, `a${'Very'.repeat(44)}LongCollectionNameConsistingOfE%24xFO0VquRn7cg3QooSZD5sglTddU`);
    assert.equal(isTruncatedFileBase(base), true);
    assert.equal(isTruncatedFileBase(collectionFileBase('x'.repeat(238))), false);
  });

  it("escape as Go's url.QueryEscape and unescape back", () => {
    assert.equal(queryEscape('a-b_c.d~e f+g/h%i$j\u0000'), 'a-b_c.d~e+f%2Bg%2Fh%25i%24j%00');
    for (const name of ['a b+c/ü', '../../etc/passwd', '東京 🙂', '%41']) {
      assert.equal(queryUnescape(queryEscape(name)), name);
    }
    assert.throws(() => queryUnescape('bad%4'), DumpFormatError);
  });

  it('give temporary names that fit in 255 bytes and never end in .bson or .metadata.json', () => {
    assert.equal(partialPath('/d/db/c.bson'), '/d/db/c.bson.partial');
    const long = `/d/db/${collectionFileBase('x'.repeat(300))}.metadata.json`;
    const temp = partialPath(long);
    assert.ok(Buffer.byteLength(temp.split('/').at(-1)!) <= 255);
    assert.match(temp, /~[0-9a-f]{16}\.partial$/);
  });

  it('split a namespace at its first dot and refuse names MongoDB forbids', () => {
    assert.deepEqual(dumpNamespaceName('db.a.b'), { db: 'db', collection: 'a.b' });
    assert.throws(() => dumpNamespaceName(`${'d'.repeat(64)}.c`), /64 bytes/);
    assert.throws(() => dumpNamespaceName('a b.c'), /database name contains a character MongoDB forbids/);
  });
});
