/**
 * The dumps `--dump` and `--archive [--gzip]` write, read back by an independent reader: tools/dump-check/
 * check_dump.py, on pymongo's `bson` (installed from PyPI into the cache on first use). Its counts, hashes, index
 * names and options must equal Tidemark's reader's and the input's; a flipped byte must make it fail.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { EJSON } from 'bson';
import { ensureDumpCheckPython, layout } from '@tidemark/testing';
import { DumpArchiveTarget } from './dump-archive-target';
import { DumpDirectoryTarget } from './dump-directory-target';
import { summarizeDump } from './dump-reader';
import {
  ID_INDEX,
  documentOfSize,
  documentsOfEveryType,
  plainDocuments,
  restoreNamespace,
  sha256Of,
  writeThrough,
  type Planned,
} from './dump-spec-support';

const run = promisify(execFile);
const CHECKER = path.join(__dirname, '..', '..', '..', 'tools', 'dump-check', 'check_dump.py');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-dump-python-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let python = '';

interface CheckerResult {
  readonly code: number;
  readonly out: Record<string, { documents: number; sha256: string; indexes: string[]; options: unknown }>;
  readonly stderr: string;
}

async function check(location: string): Promise<CheckerResult> {
  try {
    const { stdout, stderr } = await run(python, [CHECKER, location], { maxBuffer: 1 << 24 });
    return { code: 0, out: JSON.parse(stdout), stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, out: {}, stderr: e.stderr ?? String(err) };
  }
}

function plan(bigSize: number): Planned[] {
  const typed = documentsOfEveryType();
  const big = [documentOfSize(1000, bigSize), ...plainDocuments(1001, 50)];
  const indexes = [ID_INDEX, { v: 2, key: { n: 1 }, name: 'n_1', unique: true, collation: { locale: 'en' } }];
  return [
    {
      ns: restoreNamespace('shop.types', typed, {
        options: {
          validator: { $jsonSchema: { bsonType: 'object' } },
          collation: { locale: 'fr', strength: 2 },
        },
        indexes,
      }),
      docs: typed,
    },
    { ns: restoreNamespace('shop.big', big, { options: { capped: true, size: 1 << 30 } }), docs: big },
    { ns: restoreNamespace('shop.a b/ü'), docs: plainDocuments(0, 7) },
    { ns: restoreNamespace('other.empty'), docs: [] },
  ];
}

/** What the input says each namespace must read back as. */
function expected(planned: readonly Planned[]) {
  return Object.fromEntries(
    planned.map((p) => [
      p.ns.targetNs,
      {
        documents: p.docs.length,
        sha256: sha256Of(p.docs),
        indexes: p.ns.indexes.map((i) => String(i['name'])),
        options: EJSON.serialize(p.ns.options, { relaxed: false }),
      },
    ]),
  );
}

async function assertReadsBack(location: string, planned: readonly Planned[]): Promise<void> {
  const want = expected(planned);
  const py = await check(location);
  assert.equal(py.code, 0, `the Python checker failed: ${py.stderr}`);
  assert.deepEqual(py.out, want, 'the Python checker reads the input back');
  const ours = await summarizeDump(location);
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(ours).map(([ns, s]) => [
        ns,
        { documents: s.documents, sha256: s.sha256, indexes: s.indexes, options: s.options },
      ]),
    ),
    want,
    "Tidemark's reader reads the input back",
  );
}

describe('restore dumps read by the independent Python checker (pymongo bson)', () => {
  before(async () => {
    python = await ensureDumpCheckPython(layout(), (m) => console.log(m));
  });

  it('a directory dump (a 16 MiB document among them) reads back the same; a changed type byte or a cut file fails it', async () => {
    const dir = path.join(scratch, 'dump');
    const planned = plan(16 * 1024 * 1024);
    await writeThrough(new DumpDirectoryTarget(dir), planned);
    await assertReadsBack(dir, planned);

    const types = path.join(dir, 'shop', 'types.bson');
    const good = fs.readFileSync(types);
    const flipped = Buffer.from(good);
    flipped[4] = 0x42; // the first document's first element type: no BSON type
    fs.writeFileSync(types, flipped);
    const bad = await check(dir);
    assert.equal(bad.code, 1, 'a flipped byte fails the Python check');
    assert.match(bad.stderr, /types\.bson document 0: a document does not decode as BSON/);

    fs.writeFileSync(types, good.subarray(0, good.length - 1));
    const cut = await check(dir);
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /truncated/);
    fs.writeFileSync(types, good);
    assert.equal((await check(dir)).code, 0);
  });

  for (const gzip of [false, true]) {
    it(`an archive${gzip ? ' (gzip)' : ''} reads back the same; a changed byte fails its CRC`, async () => {
      const file = path.join(scratch, gzip ? 'dump.archive.gz' : 'dump.archive');
      const planned = plan(1024 * 1024);
      await writeThrough(new DumpArchiveTarget(file, { gzip }), planned, { batch: 4 });
      await assertReadsBack(file, planned);

      if (!gzip) {
        const bytes = fs.readFileSync(file);
        const at = bytes.indexOf('doc 1020');
        bytes[at] = 'D'.charCodeAt(0); // still decodes: only the CRC can tell
        const damaged = `${file}.damaged`;
        fs.writeFileSync(damaged, bytes);
        const bad = await check(damaged);
        assert.equal(bad.code, 1, 'a flipped byte fails the Python check');
        assert.match(bad.stderr, /CRC mismatch for shop\.big/);
      } else {
        const bytes = fs.readFileSync(file);
        const damaged = `${file}.damaged`;
        fs.writeFileSync(damaged, bytes.subarray(0, bytes.length - 20));
        const bad = await check(damaged);
        assert.equal(bad.code, 1, 'a cut gzip stream fails the Python check');
      }
    });
  }
});
