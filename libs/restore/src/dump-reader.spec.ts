import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { BSON, Long } from 'bson';
import { Crc64Ecma } from './crc64';
import { summarizeDump } from './dump-reader';
import { plainDocuments, sha256Of } from './dump-spec-support';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-dump-reader-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

const T = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const header = (version = '0.1') =>
  BSON.serialize({ concurrent_collections: 1, version, server_version: '7.0.0', tool_version: 'x' });
const prelude = (db: string, collection: string) =>
  BSON.serialize({
    db,
    collection,
    metadata: '{"indexes":[],"collectionName":"' + collection + '"}',
    size: 0,
  });
const nsHeader = (db: string, collection: string, eof: boolean, crc = 0n) =>
  BSON.serialize({ db, collection, EOF: eof, CRC: Long.fromBigInt(BigInt.asIntN(64, crc)) });
const crcOf = (docs: Uint8Array[]) => docs.reduce((c, d) => c.update(d), new Crc64Ecma()).digest();

function archive(...parts: Uint8Array[]): string {
  const file = path.join(scratch, `a-${++counter}`);
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

describe('dump reader', () => {
  const docs = plainDocuments(0, 3);

  it("reads a hand-built archive in mongodump's format, an empty namespace with only its EOF block included", async () => {
    const file = archive(
      MAGIC,
      header(),
      prelude('db', 'c'),
      prelude('db', 'e'),
      T,
      nsHeader('db', 'c', false),
      docs[0]!,
      T,
      nsHeader('db', 'c', false),
      docs[1]!,
      docs[2]!,
      T,
      nsHeader('db', 'e', true, 0n),
      T,
      nsHeader('db', 'c', true, crcOf(docs)),
      T,
    );
    const summary = await summarizeDump(file);
    assert.equal(summary['db.c']!.documents, 3);
    assert.equal(summary['db.c']!.sha256, sha256Of(docs));
    assert.equal(summary['db.e']!.documents, 0);
  });

  it('refuses archives whose framing is wrong', async () => {
    const cases: Array<[string, Uint8Array[], RegExp]> = [
      ['unknown format version', [MAGIC, header('0.2'), T], /format version "0\.2" is not 0\.1/],
      [
        'a block after the end',
        [
          MAGIC,
          header(),
          prelude('db', 'c'),
          T,
          nsHeader('db', 'c', true, 0n),
          T,
          nsHeader('db', 'c', false),
          docs[0]!,
          T,
        ],
        /after its end/,
      ],
      [
        'a namespace the prelude lacks',
        [MAGIC, header(), prelude('db', 'c'), T, nsHeader('db', 'x', false), docs[0]!, T],
        /prelude does not list/,
      ],
      [
        'a namespace that never ends',
        [MAGIC, header(), prelude('db', 'c'), T, nsHeader('db', 'c', false), docs[0]!, T],
        /ends before the end of db\.c/,
      ],
      [
        'two terminators',
        [MAGIC, header(), prelude('db', 'c'), T, T],
        /terminator where a namespace header belongs/,
      ],
      [
        'documents after an EOF header',
        [MAGIC, header(), prelude('db', 'c'), T, nsHeader('db', 'c', true, 0n), docs[0]!, T],
        /not terminated/,
      ],
      [
        'a wrong CRC',
        [
          MAGIC,
          header(),
          prelude('db', 'c'),
          T,
          nsHeader('db', 'c', false),
          docs[0]!,
          T,
          nsHeader('db', 'c', true, 12345n),
          T,
        ],
        /CRC mismatch/,
      ],
      [
        'a length that is no BSON length',
        [MAGIC, header(), prelude('db', 'c'), T, Buffer.from([4, 0, 0, 0])],
        /4 is not a BSON document length/,
      ],
      ['an ending inside the prelude', [MAGIC, header(), prelude('db', 'c')], /ends inside its prelude/],
    ];
    for (const [what, parts, error] of cases) {
      await assert.rejects(summarizeDump(archive(...parts)), error, what);
    }
  });

  it('reads a mongodump directory without a Tidemark record, unescaping names; refuses a .partial there', async () => {
    const dir = path.join(scratch, `d-${++counter}`);
    fs.mkdirSync(path.join(dir, 'db1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'db1', 'caf%C3%A9s.bson'), Buffer.concat(docs));
    fs.writeFileSync(
      path.join(dir, 'db1', 'caf%C3%A9s.metadata.json'),
      '{"options":{},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"47d0f1f9ed46407fbada3cab9bb84644"}',
    );
    fs.writeFileSync(path.join(dir, 'db1', 'only.bson'), docs[0]!);
    fs.writeFileSync(path.join(dir, 'prelude.json'), '{}');
    const summary = await summarizeDump(dir);
    assert.deepEqual(Object.keys(summary).sort(), ['db1.cafés', 'db1.only']);
    assert.deepEqual(summary['db1.cafés']!.indexes, ['_id_']);
    assert.equal(summary['db1.only']!.documents, 1);

    fs.writeFileSync(path.join(dir, 'db1', 'x.bson.partial'), docs[0]!);
    await assert.rejects(summarizeDump(dir), /interrupted write left x\.bson\.partial/);
    fs.rmSync(path.join(dir, 'db1', 'x.bson.partial'));
    fs.writeFileSync(path.join(dir, 'db1', 'y.metadata.json'), '{"indexes":[],"collectionName":"z"}');
    await assert.rejects(summarizeDump(dir), /names collection "z", the file "y"/);
    fs.writeFileSync(path.join(dir, 'db1', 'y.metadata.json'), '{"indexes":{}}');
    await assert.rejects(summarizeDump(dir), /"indexes" is not an array/);
  });
});
