import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { BlockMissingError, groom } from '@tidemark/snapshots';
import { addressOf, describeSnapshotStore, sampleRecord } from '@tidemark/snapshots-contract';
import { FileSystemSnapshotStore } from './filesystem-snapshot-store';
import { InvalidStoreKeyError, SnapshotRecordInvalidError } from './store-errors';

async function tempRoot(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'tidemark-fs-store-'));
}

describeSnapshotStore('filesystem', async () => {
  const root = await tempRoot();
  return {
    store: new FileSystemSnapshotStore({ root: path.join(root, 'store') }),
    close: () => fsp.rm(root, { recursive: true, force: true }),
  };
});

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const a of it) out.push(a);
  return out;
}

/** Every path under `dir`, relative. */
async function tree(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** Runs `code` (TypeScript, CommonJS) in a child process with `FileSystemSnapshotStore` as `Store`. */
function child(code: string): ReturnType<typeof spawn> {
  const module = path.join(__dirname, 'filesystem-snapshot-store.ts');
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { FileSystemSnapshotStore: Store } = require(${JSON.stringify(module)});\n${code}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
  );
}

function output(p: ReturnType<typeof spawn>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout }));
  });
}

describe('FileSystemSnapshotStore: names and paths', () => {
  let root: string;
  let store: FileSystemSnapshotStore;
  before(async () => {
    root = await tempRoot();
    store = new FileSystemSnapshotStore({ root: path.join(root, 'store') });
  });
  after(() => fsp.rm(root, { recursive: true, force: true }));

  const address = addressOf(Buffer.from('x'));
  const badJobIds = [
    '../escape',
    '..',
    '.',
    '',
    '/etc',
    'a/b',
    'a\\b',
    'j1\u0000x',
    '.hidden',
    'x'.repeat(65),
    'j1:other',
    ' j1',
  ];
  const badAddresses = [
    '../../../../etc/passwd',
    address.toUpperCase(),
    address.slice(1),
    `${address}0`,
    `${address.slice(0, 62)}/x`,
    `${address.slice(0, 63)}\u0000`,
    '',
  ];
  const badSnapshotIds = ['../j2/snapshots/x', '..', '.', '/tmp/x', 'a/b', 'a\u0000', 'y'.repeat(129), '-x'];

  it('refuses job ids, addresses and snapshot ids that could escape the root, and writes nothing', async () => {
    for (const jobId of badJobIds) {
      await assert.rejects(store.putBlock(jobId, address, Buffer.from('x')), InvalidStoreKeyError, jobId);
      await assert.rejects(store.getBlock(jobId, address), InvalidStoreKeyError);
      await assert.rejects(store.hasBlock(jobId, address), InvalidStoreKeyError);
      await assert.rejects(store.deleteBlock(jobId, address), InvalidStoreKeyError);
      await assert.rejects(collect(store.listBlocks(jobId)), InvalidStoreKeyError);
      await assert.rejects(store.listSnapshots(jobId), InvalidStoreKeyError);
      await assert.rejects(store.acquireLock(jobId, 'me', 1_000), InvalidStoreKeyError);
      await assert.rejects(store.deleteJob(jobId), InvalidStoreKeyError);
      assert.throws(() => store.blockLocation(jobId, address), InvalidStoreKeyError);
    }
    for (const a of badAddresses) {
      await assert.rejects(store.putBlock('j1', a, Buffer.from('x')), InvalidStoreKeyError, a);
      await assert.rejects(store.getBlock('j1', a), InvalidStoreKeyError);
    }
    for (const id of badSnapshotIds) {
      await assert.rejects(store.getSnapshot('j1', id), InvalidStoreKeyError, id);
      await assert.rejects(store.deleteSnapshot('j1', id), InvalidStoreKeyError);
      const record = sampleRecord('j1', 'j1-snap-1', new Date());
      await assert.rejects(
        store.putSnapshot({ ...record, manifest: { ...record.manifest, snapshotId: id } }),
        InvalidStoreKeyError,
      );
    }
    await assert.rejects(store.acquireLock('j1', '', 1_000), InvalidStoreKeyError);
    await assert.rejects(store.acquireLock('j1', 'a\nb', 1_000), InvalidStoreKeyError);
    assert.deepEqual(await tree(root), [], 'nothing was written anywhere');
  });

  it('names where a block lives', () => {
    assert.equal(
      store.blockLocation('j1', address),
      path.join(root, 'store', 'j1', 'blocks', address.slice(0, 2), address),
    );
  });
});

describe('FileSystemSnapshotStore: crashes and damaged files', () => {
  let root: string;
  let store: FileSystemSnapshotStore;
  before(async () => {
    root = await tempRoot();
    store = new FileSystemSnapshotStore({ root });
  });
  after(() => fsp.rm(root, { recursive: true, force: true }));

  it('leaves no block when a writer is killed in the middle of putBlock', { timeout: 120_000 }, async () => {
    const a = 'ab'.repeat(32);
    // The child writes a 256 MiB block slowly enough to be caught: it is killed once its temporary file exists.
    const p = child(`
      const store = new Store({ root: ${JSON.stringify(root)} });
      store.putBlock('crash', ${JSON.stringify(a)}, Buffer.alloc(256 * 1024 * 1024, 7)).then(() => console.log('done'));
    `);
    const done = output(p);
    const dir = path.join(root, 'crash', 'blocks', 'ab');
    let temp: string | undefined;
    for (let i = 0; i < 3000 && temp === undefined; i++) {
      await sleep(10);
      temp = (await fsp.readdir(dir).catch(() => [] as string[])).find((n) => n.includes('.tmp-'));
    }
    assert.ok(temp, 'the writer started its temporary file');
    p.kill('SIGKILL');
    const { stdout } = await done;
    assert.equal(stdout.includes('done'), false, 'the writer was killed before it finished');
    assert.ok((await fsp.readdir(dir)).includes(temp), 'the crash left the temporary file');
    assert.deepEqual(await collect(store.listBlocks('crash')), [], 'a temporary file is not a block');
    assert.equal(await store.hasBlock('crash', a), false);
    await assert.rejects(store.getBlock('crash', a), BlockMissingError);
    await store.putBlock('crash', a, Buffer.from('whole'));
    assert.deepEqual(Buffer.from(await store.getBlock('crash', a)), Buffer.from('whole'));
    assert.deepEqual(await collect(store.listBlocks('crash')), [a]);
  });

  it('ignores temporary files of records and refuses damaged records, naming the file', async () => {
    const dir = path.join(root, 'j1', 'snapshots');
    await store.putSnapshot(sampleRecord('j1', 'j1-snap-1', new Date('2026-11-01T00:00:00Z')));
    await fsp.writeFile(path.join(dir, '.j1-snap-2.json.tmp-0123456789abcdef'), '{"v":1,"jobId":"j1","sta');
    assert.deepEqual(
      (await store.listSnapshots('j1')).map((r) => r.manifest.snapshotId),
      ['j1-snap-1'],
      'a torn temporary record is not a record',
    );
    assert.equal(await store.getSnapshot('j1', 'j1-snap-2'), undefined);

    const file = path.join(dir, 'j1-snap-3.json');
    const cases: Array<[string, string, RegExp]> = [
      ['{"v":1,"jobId":"j1","sta', 'torn JSON', /not JSON/],
      ['[1,2]', 'an array', /not a JSON object/],
      [
        JSON.stringify({ v: 1, jobId: 'j1', snapshotId: 'j1-snap-3', state: 'done', manifest: {} }),
        'a state',
        /state/,
      ],
      [
        JSON.stringify({ v: 1, jobId: 'j1', snapshotId: 'j1-snap-4', state: 'complete', manifest: {} }),
        'another id',
        /snapshotId j1-snap-4 is not j1-snap-3/,
      ],
      [
        JSON.stringify({
          v: 1,
          jobId: 'j1',
          snapshotId: 'j1-snap-3',
          state: 'complete',
          manifest: { jobId: 'j1', snapshotId: 'j1-snap-3', takenAt: 'yesterday' },
        }),
        'takenAt',
        /takenAt is not a date/,
      ],
    ];
    for (const [text, what, message] of cases) {
      await fsp.writeFile(file, text);
      const err = await store.getSnapshot('j1', 'j1-snap-3').then(
        () => assert.fail(`${what}: getSnapshot must throw`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SnapshotRecordInvalidError, `${what}: ${String(err)}`);
      assert.equal(err.where, file);
      assert.equal(err.retriable, false);
      assert.match(err.message, message, what);
      await assert.rejects(store.listSnapshots('j1'), SnapshotRecordInvalidError, 'listing refuses it too');
    }
    const good = JSON.parse(await fsp.readFile(path.join(dir, 'j1-snap-1.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(good['v'], 1);
    await fsp.writeFile(file, JSON.stringify({ ...good, v: 2, snapshotId: 'j1-snap-3' }));
    const err = await store.getSnapshot('j1', 'j1-snap-3').then(
      () => assert.fail('an unknown version must throw'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UnknownFormatVersionError, String(err));
    assert.equal(err.where, file);
    await fsp.rm(file);
  });

  it('writes records as JSON with ISO dates', async () => {
    await store.putSnapshot(sampleRecord('j2', 'j2-snap-1', new Date('2026-11-02T03:04:05.678Z')));
    const doc = JSON.parse(
      await fsp.readFile(path.join(root, 'j2', 'snapshots', 'j2-snap-1.json'), 'utf8'),
    ) as {
      v: number;
      takenAt: string;
      state: string;
      manifest: { takenAt: { $date: string } };
    };
    assert.equal(doc.v, 1);
    assert.equal(doc.state, 'complete');
    assert.equal(doc.takenAt, '2026-11-02T03:04:05.678Z');
    assert.deepEqual(doc.manifest.takenAt, { $date: '2026-11-02T03:04:05.678Z' });
  });

  it(
    'grants an expired lock to exactly one of several processes racing for it',
    { timeout: 120_000 },
    async () => {
      for (let round = 0; round < 3; round++) {
        const job = `race${round}`;
        assert.ok(await store.acquireLock(job, 'old', 1));
        await sleep(20);
        const start = Date.now() + 1_500; // every child starts its attempt at the same moment
        const racers = ['p1', 'p2', 'p3', 'p4'].map((owner) =>
          output(
            child(`
            const store = new Store({ root: ${JSON.stringify(root)} });
            setTimeout(() => store.acquireLock(${JSON.stringify(job)}, ${JSON.stringify(owner)}, 60000)
              .then((g) => console.log(g ? 'granted' : 'refused')), ${start} - Date.now());
          `),
          ),
        );
        const results = await Promise.all(racers);
        assert.deepEqual(
          results.map((r) => r.code),
          [0, 0, 0, 0],
        );
        const granted = results.filter((r) => r.stdout.trim() === 'granted').length;
        assert.equal(granted, 1, `round ${round}: ${results.map((r) => r.stdout.trim()).join(', ')}`);
      }
    },
  );

  it('keeps at most the two newest lock generations', async () => {
    for (let n = 0; n < 10; n++)
      assert.ok((await store.renewLock('j3', 'me', 60_000)) ?? (await store.acquireLock('j3', 'me', 60_000)));
    const names = (await fsp.readdir(path.join(root, 'j3', 'lock'))).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(names, ['9', '10']);
  });

  it('leaves no trace of a deleted job, and ignores a foreign file in the blocks directory', async () => {
    const b = randomBytes(100);
    await store.putBlock('j4', addressOf(b), b);
    await fsp.writeFile(path.join(root, 'j4', 'blocks', 'README'), 'not a block');
    await fsp.mkdir(path.join(root, 'j4', 'blocks', 'zz'));
    assert.deepEqual(await collect(store.listBlocks('j4')), [addressOf(b)]);
    await store.deleteJob('j4');
    assert.equal(
      (await fsp.readdir(root)).some((n) => n.includes('j4')),
      false,
    );
  });

  it('grooming removes the temporary files crashed writers left, once older than its grace period, and nothing else', async () => {
    const b = randomBytes(300);
    const a = addressOf(b);
    await store.putBlock('j6', a, b);
    await store.putSnapshot(sampleRecord('j6', 'j6-snap-1', new Date('2026-11-01T00:00:00Z')));
    assert.ok(await store.acquireLock('j6', 'writer', 60_000));
    await store.releaseLock('j6', 'writer');
    const job = path.join(root, 'j6');
    const fan = path.join(job, 'blocks', a.slice(0, 2));
    const old = new Date(Date.now() - 3 * 3_600_000);
    const leftovers = [
      path.join(fan, `.${a}.tmp-0123456789abcdef`),
      path.join(job, 'snapshots', '.j6-snap-2.json.tmp-00112233445566ff'),
      path.join(job, 'lock', '.7.tmp-a0a1a2a3a4a5a6a7'),
    ];
    for (const [k, file] of leftovers.entries()) {
      await fsp.writeFile(file, Buffer.alloc(100 * (k + 1), 1));
      await fsp.utimes(file, old, old);
    }
    const young = path.join(fan, `.${'cd'.repeat(32)}.tmp-fedcba9876543210`);
    await fsp.writeFile(young, 'being written');
    const foreign = path.join(job, 'blocks', 'README');
    await fsp.writeFile(foreign, 'not ours to delete');
    await fsp.utimes(foreign, old, old);
    const before = await tree(job);

    // The lock lost before the first removal: nothing goes.
    const refused = await store.sweepLeftovers('j6', {
      olderThan: new Date(Date.now() - 3_600_000),
      stillHeld: async () => false,
    });
    assert.deepEqual(refused, { removed: 0, bytes: 0, stopped: true });
    assert.deepEqual(await tree(job), before);

    const report = await groom(store, { jobId: 'j6', owner: 'groomer', graceMs: 3_600_000 });
    assert.equal(report.leftoversRemoved, 3);
    assert.equal(report.leftoverBytes, 600);
    assert.equal(report.blocksDeleted, 1, 'the block no complete record names goes as before');
    const rel = (file: string) => path.relative(job, file);
    // Lock generations come and go with grooming's lock; the rest is what was there, less the leftovers and block.
    const notLock = (p: string) => !/^lock\/\d+$/.test(p);
    assert.deepEqual(
      (await tree(job)).filter(notLock),
      before.filter((p) => notLock(p) && !leftovers.map(rel).includes(p) && p !== rel(path.join(fan, a))),
    );
    assert.ok((await tree(job)).includes(rel(young)), 'a temporary file younger than the grace period stays');
    assert.ok((await tree(job)).includes(rel(foreign)), 'a file not named like a temporary one stays');
    assert.equal((await store.getSnapshot('j6', 'j6-snap-1'))?.manifest.snapshotId, 'j6-snap-1');
  });

  it('terminating a job again removes what a terminate killed half-way left', async () => {
    const b = randomBytes(100);
    await store.putBlock('j7', addressOf(b), b);
    // A terminate killed after its rename: the job is out of sight, its files still on disk.
    const doomed = path.join(root, '.deleted-j7-0123456789ab');
    await fsp.rename(path.join(root, 'j7'), doomed);
    const others = ['.deleted-j77-0123456789ab', '.deleted-j7-not-hex-at-all'];
    for (const name of others) await fsp.mkdir(path.join(root, name));
    await store.deleteJob('j7');
    const names = await fsp.readdir(root);
    assert.equal(names.includes(path.basename(doomed)), false);
    for (const name of others) assert.ok(names.includes(name), `${name} is not j7's`);
  });

  it('writes a block again after another process deleted the job under it, and keeps the first bytes of a block', async () => {
    const [a, b] = [randomBytes(100), randomBytes(100)];
    await store.putBlocks('j5', [{ address: addressOf(a), bytes: a }]);
    // Another process (its own store) deletes the job: this store's fan-out directories are gone.
    await new FileSystemSnapshotStore({ root }).deleteJob('j5');
    await store.putBlocks('j5', [
      { address: addressOf(a), bytes: a },
      { address: addressOf(b), bytes: b },
    ]);
    assert.deepEqual(Buffer.from(await store.getBlock('j5', addressOf(a))), a);
    assert.deepEqual(Buffer.from(await store.getBlock('j5', addressOf(b))), b);
    // putBlocks does not look first: a block already there keeps its bytes all the same.
    await store.putBlocks('j5', [{ address: addressOf(a), bytes: randomBytes(100) }]);
    assert.deepEqual(Buffer.from(await store.getBlock('j5', addressOf(a))), a);
    assert.deepEqual(
      (await tree(path.join(root, 'j5'))).filter((p) => p.includes('.tmp-')),
      [],
      'no temporary file left',
    );
  });
});
