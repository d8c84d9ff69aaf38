import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BSON } from 'bson';
import { DumpArchiveTarget } from './dump-archive-target';
import { ARCHIVE_TERMINATOR, DumpFormatError, MAX_BSON_SIZE, metadataJson } from './dump-format';
import { readDump, summarizeDump } from './dump-reader';
import {
  documentOfSize,
  documentsOfEveryType,
  fixedUuid,
  plainDocuments,
  restoreNamespace,
  sha256Of,
  writeThrough,
  type Planned,
} from './dump-spec-support';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-dump-archive-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshFile = (name = 'dump.archive') => path.join(scratch, `${++counter}`, name);

/** The archive's top-level items as mongo-tools' parser sees them: BSON documents and terminators. */
function items(bytes: Buffer): Array<Buffer | 'T'> {
  const out: Array<Buffer | 'T'> = [];
  let at = 4;
  while (at < bytes.length) {
    const n = bytes.readUInt32LE(at);
    if (n === ARCHIVE_TERMINATOR) {
      out.push('T');
      at += 4;
    } else {
      out.push(bytes.subarray(at, at + n));
      at += n;
    }
  }
  return out;
}

function plan(): Planned[] {
  const typed = documentsOfEveryType();
  const big = [documentOfSize(100, MAX_BSON_SIZE), ...plainDocuments(101, 4)];
  return [
    { ns: restoreNamespace('shop.types', typed, { options: { capped: true, size: 1 << 20 } }), docs: typed },
    { ns: restoreNamespace('shop.big', big), docs: big },
    { ns: restoreNamespace('other.empty'), docs: [] },
  ];
}

describe('DumpArchiveTarget', () => {
  for (const gzip of [false, true]) {
    it(`writes mongodump's archive format${gzip ? ' gzipped' : ''}: every BSON type and a 16 MiB document, namespaces interleaved`, async () => {
      const file = freshFile(gzip ? 'dump.archive.gz' : 'dump.archive');
      const planned = plan();
      await writeThrough(new DumpArchiveTarget(file, { gzip, collectionUuid: fixedUuid }), planned, {
        batch: 1,
      });
      assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)], 'no .partial left');
      const raw = fs.readFileSync(file);
      assert.equal(raw[0] === 0x1f && raw[1] === 0x8b, gzip);
      const bytes = gzip ? gunzipSync(raw) : raw;
      assert.deepEqual([...bytes.subarray(0, 4)], [0x6d, 0xe2, 0x99, 0x81]);

      const parts = items(bytes);
      const header = BSON.deserialize(parts[0] as Buffer);
      assert.deepEqual(Object.keys(header), [
        'concurrent_collections',
        'version',
        'server_version',
        'tool_version',
      ]);
      assert.equal(header['version'], '0.1');
      assert.match(header['server_version'], /^\d+\.\d+\.\d+$/);
      const prelude = parts.slice(1, 4).map((p) => BSON.deserialize(p as Buffer));
      assert.deepEqual(
        prelude.map((p) => [p['db'], p['collection'], p['type'], p['size']]),
        planned.map((p) => [
          p.ns.targetNs.split('.')[0],
          p.ns.targetNs.split('.')[1],
          'collection',
          p.ns.logicalBytes,
        ]),
      );
      assert.equal(prelude[0]!['metadata'], metadataJson(planned[0]!.ns, 'types', fixedUuid(planned[0]!.ns)));
      assert.equal(parts[4], 'T', 'the prelude ends with a terminator');
      // Blocks interleave: inserts of shop.types and shop.big alternate, each switch a new header.
      const headers = parts
        .slice(5)
        .filter(
          (p): p is Buffer =>
            p !== 'T' && Object.keys(BSON.deserialize(p)).join() === 'db,collection,EOF,CRC',
        )
        .map((p) => BSON.deserialize(p, { useBigInt64: true }));
      assert.ok(
        headers.filter((h) => h['collection'] === 'types' && h['EOF'] === false).length > 1,
        JSON.stringify(headers.map((h) => [h['collection'], h['EOF']])),
      );
      assert.deepEqual(
        headers.filter((h) => h['EOF'] === true).map((h) => h['collection']),
        ['types', 'big', 'empty'],
      );
      assert.equal(parts.at(-1), 'T');

      const docs = new Map<string, Uint8Array[]>();
      for await (const e of readDump(file)) {
        if (e.kind === 'namespace') docs.set(e.ns, []);
        if (e.kind === 'document') docs.get(e.ns)!.push(e.document);
      }
      for (const p of planned)
        assert.deepEqual(
          docs.get(p.ns.targetNs),
          p.docs.map((d) => Buffer.from(d)),
        );
      const summary = await summarizeDump(file);
      assert.equal(summary['shop.big']!.sha256, sha256Of(planned[1]!.docs));
      assert.deepEqual(summary['shop.types']!.options, { capped: true, size: { $numberInt: '1048576' } });
      assert.equal(summary['other.empty']!.documents, 0);
    });
  }

  it('the reader detects damage: a changed byte (CRC), a truncated archive, a wrong magic number, a cut gzip stream', async () => {
    const file = freshFile();
    const docs = plainDocuments(0, 5);
    await writeThrough(new DumpArchiveTarget(file), [{ ns: restoreNamespace('db.c'), docs }]);
    const good = fs.readFileSync(file);
    const damaged = (bytes: Buffer, name: string) => {
      const f = path.join(path.dirname(file), name);
      fs.writeFileSync(f, bytes);
      return f;
    };
    const changed = Buffer.from(good);
    changed[changed.indexOf('doc 3')] = 'D'.charCodeAt(0); // still valid BSON: only the CRC can tell
    await assert.rejects(summarizeDump(damaged(changed, 'changed')), /CRC mismatch for db\.c/);
    await assert.rejects(
      summarizeDump(damaged(good.subarray(0, good.length - 30), 'truncated')),
      DumpFormatError,
    );
    await assert.rejects(
      summarizeDump(damaged(good.subarray(0, good.length - 4), 'no-final-terminator')),
      /not terminated/,
    );
    const magic = Buffer.from(good);
    magic[0] = 0;
    await assert.rejects(summarizeDump(damaged(magic, 'magic')), /wrong magic number/);
    const gz = gzipSync(good);
    await assert.rejects(summarizeDump(damaged(gz.subarray(0, gz.length - 10), 'cut.gz')), /cannot be read/);
    // Cut right after a block's documents: the namespace never ends.
    const cut = good.subarray(0, good.indexOf(Buffer.from(docs[4]!)) + docs[4]!.byteLength + 4);
    await assert.rejects(summarizeDump(damaged(cut, 'no-eof')), /ends before the end of db\.c/);
  });

  it('leaves only FILE.partial when the process is killed mid-write', async () => {
    const file = freshFile();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
        const { DumpArchiveTarget } = require(${JSON.stringify(path.join(__dirname, 'dump-archive-target.ts'))});
        const s = require(${JSON.stringify(path.join(__dirname, 'dump-spec-support.ts'))});
        (async () => {
          const a = s.restoreNamespace('db.c');
          const t = new DumpArchiveTarget(${JSON.stringify(file)});
          await t.begin([a]);
          await t.prepare(a, { drop: false });
          await t.insert(a, s.plainDocuments(0, 4));
          await t.finish(a);
          process.kill(process.pid, 'SIGKILL');
        })();`,
      ],
      { cwd: path.join(__dirname, '..', '..', '..'), encoding: 'utf8' },
    );
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['dump.archive.partial']);
    assert.equal(await new DumpArchiveTarget(file).existingDocuments('db.c'), 0);
  });

  it('reports the documents of an archive already there; replaces it only with drop', async () => {
    const file = freshFile();
    const ns = restoreNamespace('db.c');
    await writeThrough(new DumpArchiveTarget(file), [{ ns, docs: plainDocuments(0, 3) }]);
    const again = new DumpArchiveTarget(file);
    assert.equal(await again.existingDocuments('db.c'), 3);
    assert.equal(await again.existingDocuments('db.other'), 0);
    await again.begin([ns]);
    await assert.rejects(again.prepare(ns, { drop: false }), /holds documents of db\.c; restore with --drop/);
    assert.equal((await summarizeDump(file))['db.c']!.documents, 3, 'left as it was');
    await writeThrough(new DumpArchiveTarget(file), [{ ns, docs: plainDocuments(10, 7) }], { drop: true });
    assert.equal((await summarizeDump(file))['db.c']!.documents, 7);
  });

  it('refuses names MongoDB forbids, a bad server version, an unannounced namespace, and an end before every finish', async () => {
    for (const bad of ['...c', 'a/b.c', '/abs.c', 'db\0x.c', 'db.c\0d', 'db']) {
      const file = freshFile();
      await assert.rejects(new DumpArchiveTarget(file).begin([restoreNamespace(bad)]), DumpFormatError);
      assert.equal(fs.existsSync(path.dirname(file)), false);
    }
    assert.throws(() => new DumpArchiveTarget(freshFile(), { serverVersion: '7.0' }), /X\.Y\.Z/);
    const target = new DumpArchiveTarget(freshFile());
    const a = restoreNamespace('db.a');
    await target.begin([a]);
    await assert.rejects(target.insert(restoreNamespace('db.b'), plainDocuments(0, 1)), /not announced/);
    await target.prepare(a, { drop: false });
    await assert.rejects(target.end(), /db\.a not finished/);
  });
});
