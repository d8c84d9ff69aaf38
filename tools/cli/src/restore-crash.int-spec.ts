/**
 * A restore SIGKILLed part-way, then the same restore again: it is refused, naming the namespaces the killed one
 * left and `--drop`, and writes nothing; with `--drop` it ends with exactly the snapshot's documents. Real servers: a
 * filesystem snapshot store, the backup-side FerretDB as the target, the restore in its own process
 * (`testing/restore-child.ts`, the CLI's composition). And a target server that goes away midway: the restore fails
 * with the reason and says what it wrote.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BSON, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { FileSystemSnapshotStore } from '@tidemark/snapshot-stores';
import type { JobView } from '@tidemark/jobs';
import { RestoreFailedError } from '@tidemark/restore';
import { MemoryApplyFence, MemoryHeadSource, SnapshotTaker } from '@tidemark/snapshots';
import { startScratchFerretdb } from '@tidemark/testing';
import { deploymentTarget, openBackupSide, runRestore } from './restore-runner';

const CHILD = path.join(__dirname, 'testing', 'restore-child.ts');
const JOB = `rk${randomBytes(3).toString('hex')}`;
const SYNC = `${JOB}-s1`;
const DOCS = 12_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the child; `killAfter` SIGKILLs it once it reported at least that many documents written. */
function restore(args: string[], killAfter?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const last = [...stdout.matchAll(/documents (\d+)/g)].at(-1);
      if (killAfter !== undefined && last !== undefined && Number(last[1]) >= killAfter)
        child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Count and a hash of the namespace's documents' raw BSON in `_id` order. */
async function contents(
  client: MongoClient,
  db: string,
  coll: string,
): Promise<{ count: number; hash: string }> {
  const hash = createHash('sha256');
  let count = 0;
  for await (const raw of client
    .db(db)
    .collection(coll)
    .find({}, { raw: true, sort: { _id: 1 } })) {
    hash.update(raw as unknown as Uint8Array);
    count++;
  }
  return { count, hash: hash.digest('hex') };
}

/** The target's document count once it has held still for a second (polled every 250 ms, at most 30 s). */
async function settledCount(client: MongoClient, db: string): Promise<number> {
  const count = async () =>
    (await contents(client, db, 'orders')).count + (await contents(client, db, 'events')).count;
  const deadline = Date.now() + 30_000;
  let last = await count();
  let stillSince = Date.now();
  while (Date.now() - stillSince < 1000) {
    if (Date.now() > deadline) throw new Error(`the target's count kept changing for 30 s (last ${last})`);
    await new Promise((r) => setTimeout(r, 250));
    const now = await count();
    if (now !== last) [last, stillSince] = [now, Date.now()];
  }
  return last;
}

describe('restores broken part-way: the restore killed, the target gone', () => {
  let root: string;
  let client: MongoClient;
  let snapshotId: string;
  const target = `restore_crash_${JOB}`;
  const expected = new Map<string, { count: number; hash: string }>();

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'tidemark-restore-crash-'));
    client = await new MongoClient(resolveEndpoints().backup.uri).connect();
    const head = new MemoryHeadSource();
    for (const coll of ['orders', 'events']) {
      const docs = Array.from({ length: DOCS / 2 }, (_, i) =>
        BSON.serialize({
          _id: `${coll}${String(i).padStart(6, '0')}`,
          n: i,
          pad: randomBytes(270).toString('hex'),
        }),
      );
      head.setNamespace(JOB, SYNC, `shop.${coll}`, docs);
      const hash = createHash('sha256');
      for (const d of docs) hash.update(d);
      expected.set(coll, { count: docs.length, hash: hash.digest('hex') });
    }
    head.setApplied(JOB, SYNC, { t: 1_800_000_000, i: 1 });
    const taker = new SnapshotTaker({
      head,
      fence: new MemoryApplyFence(),
      store: new FileSystemSnapshotStore({ root }),
    });
    snapshotId = `${JOB}-snap`;
    const record = await taker.take({
      jobId: JOB,
      syncId: SYNC,
      snapshotId,
      owner: 'spec',
      encoding: { codec: 'gzip' },
    });
    assert.equal(record.state, 'complete');
  });

  after(async () => {
    await client?.db(target).dropDatabase();
    await client?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('is refused without --drop, writing nothing, and with --drop ends with exactly the snapshot', async () => {
    const killed = await restore([root, JOB, snapshotId, target], 2000);
    assert.equal(
      killed.signal,
      'SIGKILL',
      `the restore ended before it was killed: ${killed.stdout.slice(-200)} ${killed.stderr}`,
    );
    // A batch the killed client had sent can still be written by the server after the kill (CI saw 2,000 counted
    // here and 3,000 a moment later): count once the target has stopped changing.
    const left = await settledCount(client, target);
    assert.ok(left > 0 && left < DOCS, `the killed restore left ${left} of ${DOCS} documents`);

    const again = await restore([root, JOB, snapshotId, target]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      new RegExp(`already holds documents in ${target}\\.\\w+ \\(\\d+\\).*nothing was written.*--drop`),
    );
    const after = await settledCount(client, target);
    assert.equal(after, left, 'the refused restore wrote something');

    const dropped = await restore([root, JOB, snapshotId, target, '--drop']);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stdout, new RegExp(`complete ${DOCS}`));
    for (const coll of ['orders', 'events']) {
      assert.deepEqual(await contents(client, target, coll), expected.get(coll), coll);
    }
  });

  it('a target that goes away midway fails the restore with the reason and says what was written', async () => {
    const scratch = await startScratchFerretdb({ name: `restore-target-${JOB}`, oplogBytes: 1 << 20 });
    const target = await new MongoClient(scratch.uri, { serverSelectionTimeoutMS: 2000 }).connect();
    const job = {
      id: JOB,
      source: { uri: 'mongodb://source.invalid:27017/' },
      snapshotStore: { kind: 'filesystem', path: root },
    } as unknown as JobView;
    const side = await openBackupSide(job);
    // The server goes away between batches, deterministically: once 2,000 documents are in, the next batch waits for
    // the server to have stopped before it is sent (a stop begun from progress alone raced the restore's end in CI).
    const deployment = deploymentTarget(target);
    let written = 0;
    let stopping: Promise<void> | undefined;
    const goingAway: typeof deployment = {
      existingDocuments: (ns) => deployment.existingDocuments(ns),
      begin: (plan) => deployment.begin(plan),
      prepare: (ns, options) => deployment.prepare(ns, options),
      insert: async (ns, docs) => {
        if (written >= 2000) await (stopping ??= scratch.stop());
        await deployment.insert(ns, docs);
        written += docs.length;
      },
      finish: (ns) => deployment.finish(ns),
      end: () => deployment.end(),
    };
    try {
      await assert.rejects(
        runRestore(side, {
          job,
          snapshotId,
          target: goingAway,
          targetClient: target,
          selection: { include: [], exclude: [], renames: [] },
          drop: false,
        }),
        (err: unknown) => {
          assert.ok(err instanceof RestoreFailedError, String(err));
          assert.ok(
            err.written.documents >= 2000 && err.written.documents < DOCS,
            `${err.written.documents} written`,
          );
          assert.match(err.message, /^restore failed: .+\. \d+ documents written; /);
          console.log(err.message);
          return true;
        },
      );
    } finally {
      await target.close().catch(() => undefined);
      await side.close();
      await (stopping ?? scratch.stop());
    }
  });
});
