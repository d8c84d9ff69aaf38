import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { BSON, Int32 } from 'bson';
import { DumpDirectoryTarget, countDocumentsInFile } from './dump-directory-target';
import { DUMP_RECORD_FILE, DumpFormatError, MAX_BSON_SIZE, collectionFileBase } from './dump-format';
import { readDump, summarizeDump } from './dump-reader';
import {
  ID_INDEX,
  documentOfSize,
  documentsOfEveryType,
  fixedUuid,
  plainDocuments,
  restoreNamespace,
  sha256Of,
  writeThrough,
} from './dump-spec-support';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-dump-dir-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(scratch, `dump-${++counter}`);

async function documentsRead(location: string): Promise<Map<string, Uint8Array[]>> {
  const out = new Map<string, Uint8Array[]>();
  for await (const e of readDump(location)) {
    if (e.kind === 'namespace') out.set(e.ns, []);
    if (e.kind === 'document') out.get(e.ns)!.push(e.document);
  }
  return out;
}

describe('DumpDirectoryTarget', () => {
  it('writes every BSON type and a 16 MiB document byte for byte, with mongodump metadata, and reads them back', async () => {
    const dir = freshDir();
    const typed = documentsOfEveryType();
    const big = [documentOfSize(100, MAX_BSON_SIZE), ...plainDocuments(101, 2)];
    const options = {
      validator: { n: { $type: 'string' } },
      collation: { locale: 'fr', strength: new Int32(2) },
    };
    const indexes = [ID_INDEX, { v: 2, key: { n: -1, 'a.b': 1 }, name: 'n_-1_a.b_1', unique: true }];
    const planned = [
      { ns: restoreNamespace('shop.types', typed, { options, indexes }), docs: typed },
      { ns: restoreNamespace('shop.big', big), docs: big },
      { ns: restoreNamespace('other.empty', []), docs: [] },
    ];
    await writeThrough(new DumpDirectoryTarget(dir, { collectionUuid: fixedUuid }), planned);

    assert.deepEqual(fs.readdirSync(dir).sort(), ['other', 'shop', DUMP_RECORD_FILE]);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'shop')).sort(), [
      'big.bson',
      'big.metadata.json',
      'types.bson',
      'types.metadata.json',
    ]);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'shop', 'types.bson')), Buffer.concat(typed));
    assert.equal(fs.statSync(path.join(dir, 'other', 'empty.bson')).size, 0);
    assert.equal(
      fs.readFileSync(path.join(dir, 'shop', 'types.metadata.json'), 'utf8'),
      '{"options":{"validator":{"n":{"$type":"string"}},"collation":{"locale":"fr","strength":{"$numberInt":"2"}}},' +
        '"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},' +
        '{"v":{"$numberInt":"2"},"key":{"n":{"$numberInt":"-1"},"a.b":{"$numberInt":"1"}},"name":"n_-1_a.b_1","unique":true}],' +
        `"uuid":"${fixedUuid(planned[0]!.ns)}","collectionName":"types","type":"collection"}`,
    );

    const read = await documentsRead(dir);
    assert.deepEqual([...read.keys()], ['other.empty', 'shop.big', 'shop.types']);
    assert.deepEqual(
      read.get('shop.types'),
      typed.map((d) => Buffer.from(d)),
    );
    assert.equal(read.get('shop.big')![0]!.byteLength, MAX_BSON_SIZE);
    const summary = await summarizeDump(dir);
    assert.equal(summary['shop.types']!.sha256, sha256Of(typed));
    assert.equal(summary['shop.big']!.sha256, sha256Of(big));
    assert.deepEqual(summary['shop.types']!.indexes, ['_id_', 'n_-1_a.b_1']);
    assert.deepEqual(summary['other.empty']!.documents, 0);
    // -0.0 and Decimal128 survive decoding too, not only the bytes.
    const first = BSON.deserialize(read.get('shop.types')![0]!, { promoteValues: false });
    assert.ok(Object.is(first['negZero'].valueOf(), -0));
    assert.equal(first['decimal'].toString(), '1234567890.123456789012345678901234');
    const record = JSON.parse(fs.readFileSync(path.join(dir, DUMP_RECORD_FILE), 'utf8'));
    assert.equal(record.state, 'complete');
    assert.equal(record.namespaces['shop.types'].documents, typed.length);
  });

  it('serializes concurrent inserts of one namespace: every document whole, in call order', async () => {
    const dir = freshDir();
    const docs = plainDocuments(0, 200);
    const ns = restoreNamespace('db.c', docs);
    const target = new DumpDirectoryTarget(dir);
    await target.begin([ns]);
    await target.prepare(ns, { drop: false });
    await Promise.all(
      Array.from({ length: 20 }, (_, k) => target.insert(ns, docs.slice(k * 10, k * 10 + 10))),
    );
    await target.finish(ns);
    await target.end();
    assert.deepEqual(fs.readFileSync(path.join(dir, 'db', 'c.bson')), Buffer.concat(docs));
  });

  it('refuses names that would leave DIR or that MongoDB forbids, before writing anything', async () => {
    for (const bad of [
      '...c',
      'a/b.c',
      '/abs.c',
      '\\x.c',
      'db\0x.c',
      'db.c\0d',
      'db.c$d',
      'db',
      'db.',
      '.c',
    ]) {
      const dir = freshDir();
      const target = new DumpDirectoryTarget(dir);
      await assert.rejects(
        target.begin([restoreNamespace(bad)]),
        DumpFormatError,
        `namespace ${JSON.stringify(bad)}`,
      );
      await assert.rejects(target.existingDocuments(bad), DumpFormatError);
      assert.equal(fs.existsSync(dir), false, `nothing written for ${JSON.stringify(bad)}`);
    }
  });

  it("escapes collection names as mongodump does (url.QueryEscape), so '/' and '..' stay inside the database directory", async () => {
    const dir = freshDir();
    const long = 'x'.repeat(250);
    const names = ['../../etc/passwd', 'a b+c/ü', '..', long];
    const planned = names.map((c, k) => ({
      ns: restoreNamespace(`db.${c}`),
      docs: plainDocuments(k * 10, 2),
    }));
    await writeThrough(new DumpDirectoryTarget(dir), planned);
    const files = fs.readdirSync(path.join(dir, 'db')).sort();
    assert.ok(files.includes('..%2F..%2Fetc%2Fpasswd.bson'));
    assert.ok(files.includes('a+b%2Bc%2F%C3%BC.bson'));
    assert.ok(files.includes('...bson'));
    assert.equal(collectionFileBase(long).length, 238);
    assert.ok(files.includes(`${collectionFileBase(long)}.bson`));
    assert.equal(fs.readdirSync(scratch).includes('etc'), false);
    const summary = await summarizeDump(dir);
    assert.deepEqual(Object.keys(summary).sort(), names.map((c) => `db.${c}`).sort());
  });

  it('reports existing documents; refuses to prepare over them without drop, replaces them with drop', async () => {
    const dir = freshDir();
    const ns = restoreNamespace('db.c');
    await writeThrough(new DumpDirectoryTarget(dir), [{ ns, docs: plainDocuments(0, 3) }]);
    const again = new DumpDirectoryTarget(dir);
    assert.equal(await again.existingDocuments('db.c'), 3);
    assert.equal(await again.existingDocuments('db.absent'), 0);
    await again.begin([ns]);
    await assert.rejects(
      again.prepare(ns, { drop: false }),
      /already holds 3 documents; restore with --drop/,
    );
    assert.equal(await countDocumentsInFile(path.join(dir, 'db', 'c.bson')), 3, 'left as it was');

    const replaced = plainDocuments(50, 5);
    await writeThrough(new DumpDirectoryTarget(dir), [{ ns, docs: replaced }], { drop: true });
    assert.deepEqual(fs.readFileSync(path.join(dir, 'db', 'c.bson')), Buffer.concat(replaced));
    assert.equal((await summarizeDump(dir))['db.c']!.documents, 5);
  });

  it('adds namespaces to a complete dump already in DIR: the record lists both restores', async () => {
    const dir = freshDir();
    await writeThrough(new DumpDirectoryTarget(dir), [
      { ns: restoreNamespace('db.a'), docs: plainDocuments(0, 2) },
    ]);
    await writeThrough(new DumpDirectoryTarget(dir), [
      { ns: restoreNamespace('db.b'), docs: plainDocuments(5, 3) },
    ]);
    const summary = await summarizeDump(dir);
    assert.deepEqual(
      Object.entries(summary).map(([ns, s]) => [ns, s.documents]),
      [
        ['db.a', 2],
        ['db.b', 3],
      ],
    );
  });

  it('refuses a document whose framing is wrong, writing none of its batch', async () => {
    const dir = freshDir();
    const ns = restoreNamespace('db.c');
    const target = new DumpDirectoryTarget(dir);
    await target.begin([ns]);
    await target.prepare(ns, { drop: false });
    const good = plainDocuments(0, 1)[0]!;
    const wrongLength = Buffer.from(good);
    wrongLength.writeInt32LE(good.byteLength + 1, 0);
    const noZero = Buffer.from(good);
    noZero[noZero.length - 1] = 1;
    await assert.rejects(target.insert(ns, [good, wrongLength]), /BSON length/);
    await assert.rejects(target.insert(ns, [noZero]), /zero byte/);
    await assert.rejects(target.insert(ns, [Buffer.alloc(3)]), /shorter/);
    await target.finish(ns);
    assert.equal(fs.statSync(path.join(dir, 'db', 'c.bson')).size, 0);
  });

  it('leaves only .partial files and a "writing" record when the process is killed mid-write; the reader refuses it', async () => {
    const dir = freshDir();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
        const { DumpDirectoryTarget } = require(${JSON.stringify(path.join(__dirname, 'dump-directory-target.ts'))});
        const s = require(${JSON.stringify(path.join(__dirname, 'dump-spec-support.ts'))});
        (async () => {
          const a = s.restoreNamespace('db.done'), b = s.restoreNamespace('db.cut');
          const t = new DumpDirectoryTarget(${JSON.stringify(dir)});
          await t.begin([a, b]);
          await t.prepare(a, { drop: false });
          await t.insert(a, s.plainDocuments(0, 4));
          await t.finish(a);
          await t.prepare(b, { drop: false });
          await t.insert(b, s.plainDocuments(10, 4));
          process.kill(process.pid, 'SIGKILL');
        })();`,
      ],
      { cwd: path.join(__dirname, '..', '..', '..'), encoding: 'utf8' },
    );
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const files = fs.readdirSync(path.join(dir, 'db')).sort();
    assert.deepEqual(files, ['cut.bson.partial', 'done.bson', 'done.metadata.json']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, DUMP_RECORD_FILE), 'utf8')).state, 'writing');
    await assert.rejects(summarizeDump(dir), /not complete .*interrupted/);

    // The same restore again, with --drop: a whole dump.
    const planned = [
      { ns: restoreNamespace('db.done'), docs: plainDocuments(0, 4) },
      { ns: restoreNamespace('db.cut'), docs: plainDocuments(10, 4) },
    ];
    await writeThrough(new DumpDirectoryTarget(dir), planned, { drop: true });
    assert.deepEqual(fs.readdirSync(path.join(dir, 'db')).sort(), [
      'cut.bson',
      'cut.metadata.json',
      'done.bson',
      'done.metadata.json',
    ]);
    assert.equal((await summarizeDump(dir))['db.cut']!.documents, 4);
  });

  it('the reader detects a damaged dump: a truncated file, a bad length, a changed byte, a missing file', async () => {
    const make = async () => {
      const dir = freshDir();
      await writeThrough(new DumpDirectoryTarget(dir), [
        { ns: restoreNamespace('db.c'), docs: plainDocuments(0, 5) },
      ]);
      return { dir, bson: path.join(dir, 'db', 'c.bson') };
    };
    {
      const { dir, bson } = await make();
      fs.truncateSync(bson, fs.statSync(bson).size - 3);
      await assert.rejects(summarizeDump(dir), /truncated|runs past the end/);
      await assert.rejects(countDocumentsInFile(bson), /runs past the end/);
    }
    {
      const { dir, bson } = await make();
      const bytes = fs.readFileSync(bson);
      bytes.writeUInt32LE(3, 0);
      fs.writeFileSync(bson, bytes);
      await assert.rejects(summarizeDump(dir), /3 is not a BSON document length/);
    }
    {
      const { dir, bson } = await make();
      const bytes = fs.readFileSync(bson);
      const at = bytes.indexOf('doc 2');
      bytes[at] = 'D'.charCodeAt(0); // still valid BSON: only the record's hash can tell
      fs.writeFileSync(bson, bytes);
      await assert.rejects(summarizeDump(dir), /db\.c holds 5 documents .* but the record says 5 .*sha256/);
    }
    {
      const { dir, bson } = await make();
      const bytes = fs.readFileSync(bson);
      bytes[4] = 0x42; // the first element's type byte: not a BSON type
      fs.writeFileSync(bson, bytes);
      await assert.rejects(summarizeDump(dir), /does not decode as BSON/);
    }
    {
      const { dir, bson } = await make();
      fs.rmSync(bson);
      fs.rmSync(bson.replace('.bson', '.metadata.json'));
      await assert.rejects(summarizeDump(dir), /db\.c is listed but its files are missing/);
    }
  });
});
