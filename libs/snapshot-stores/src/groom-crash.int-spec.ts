/**
 * A groomer SIGKILLed mid-sweep, on real stores (a directory; the backup-side MongoDB; the S3 server, its metadata in
 * the backup-side MongoDB). Two retained snapshots share
 * half their blocks with several expired ones, whose other blocks are garbage; a groomer process (the product's
 * `groom`) is killed once it has deleted about a third of the garbage. Then: some but not all of the garbage is gone
 * (the kill landed mid-sweep), no block a retained snapshot references is missing, every record reads as it did
 * (both retained snapshots complete and verifying, nothing else), the dead groomer's lock still holds until it
 * expires, then the next grooming deletes exactly the rest of the garbage, and the next snapshot succeeds. In the s3
 * store a block is its index entry (deleted first) and its object (deleted after): a kill between the two leaves
 * objects no block names (at most those of the batch in flight), which the next grooming removes as leftovers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { classifyS3Error, createS3Client } from '@tidemark/s3';
import { opTime } from '@tidemark/domain';
import {
  groom,
  MemoryApplyFence,
  MemoryHeadSource,
  SnapshotTaker,
  StoreLockBusyError,
  verifySnapshot,
  type GroomReport,
  type SnapshotRecord,
  type SnapshotStore,
  type StoreKind,
  referencedBlocks,
} from '@tidemark/snapshots';
import { uniqueDbName, uniqueName } from '@tidemark/testing';
import { createSnapshotStore } from './create-snapshot-store';
import { SNAPSHOT_BLOCK_OBJECTS_COLLECTION } from './s3-snapshot-store';

/** Blocks per `deleteBlocks` call of the groomer that is killed: few, so the kill lands mid-sweep. */
const BATCH = 8;

const GROOM_ONCE = path.join(__dirname, 'testing', 'groom-once.ts');
/** Documents per snapshot: the first half is the same in every snapshot, the second half new in each. */
const DOCUMENTS = 800;
const EXPIRED = 8;
/** The dead groomer's lock lifetime: the next grooming waits for it. */
const DEAD_LOCK_TTL_MS = 4_000;

/** Starts a groomer and SIGKILLs it once it reports `killAt` deleted blocks; resolves with its last report. */
async function killMidGrooming(args: string[], killAt: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', GROOM_ONCE, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  let buffered = '';
  let reported = 0;
  let finished = false;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('finished')) finished = true;
        const match = /^deleted (\d+)$/.exec(line);
        if (match !== null) reported = Number(match[1]);
      }
      if (reported >= killAt && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  assert.ok(!finished, 'the groomer finished before it could be killed');
  assert.ok(reported >= killAt, `the groomer died after ${reported} deletions, before the kill`);
  return reported;
}

async function blocksOf(store: SnapshotStore, jobId: string): Promise<Set<string>> {
  const blocks = new Set<string>();
  for await (const address of store.listBlocks(jobId)) blocks.add(address);
  return blocks;
}

function addressesOf(...records: SnapshotRecord[]): Set<string> {
  return new Set(records.flatMap((r) => [...referencedBlocks(r.manifest)]));
}

async function assertVerifies(store: SnapshotStore, record: SnapshotRecord, when: string): Promise<void> {
  const report = await verifySnapshot(store, record);
  assert.ok(
    report.ok,
    `${when}: ${record.manifest.snapshotId} does not verify: ${JSON.stringify(report.damage.slice(0, 3))}`,
  );
}

/** Keys of the job's objects in the bucket (blocks of their own and packs), whether or not an index entry names them. */
async function objectsOf(jobId: string, prefix: string): Promise<Set<string>> {
  const found = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({
        Bucket: resolveEndpoints().s3.bucket,
        Prefix: `${prefix}/${jobId}/`,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) found.add(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return found;
}

/** The object keys the s3 store's index names for the job (a pack's key once per block in it). */
async function indexedKeys(client: MongoClient, database: string, jobId: string): Promise<Set<string>> {
  const docs = await client
    .db(database)
    .collection<{ _id: string; key: string }>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION)
    .find({ jobId }, { projection: { key: 1 } })
    .toArray();
  return new Set(docs.map((d) => d.key));
}

let s3: ReturnType<typeof createS3Client> | undefined;
const s3Client = () => (s3 ??= createS3Client(resolveEndpoints().s3, { maxAttempts: 1 }));

describe('a groomer killed mid-grooming', { concurrency: 1 }, () => {
  let client: MongoClient;
  let dir: string;
  const database = uniqueDbName('t_groomcrash');
  const prefix = `it/${uniqueName('groomcrash')}`;
  const stores: Array<[SnapshotStore, string]> = [];

  before(async () => {
    client = await MongoClient.connect(resolveEndpoints().backup.uri);
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-groom-crash-'));
  });
  after(async () => {
    for (const [store, jobId] of stores) await store.deleteJob(jobId);
    s3Client().destroy();
    await client.db(database).dropDatabase();
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['filesystem', 'blockstore', 's3'] as StoreKind[]) {
    it(`${kind}: retained snapshots keep every block; the next grooming removes the rest once the lock expires`, async () => {
      const root = path.join(dir, 'fs');
      const where = kind === 'filesystem' ? root : database;
      const jobId = `gcrash${kind === 'filesystem' ? 'fs' : kind === 'blockstore' ? 'bs' : 's3'}`;
      const syncId = `${jobId}-s1`;
      const store = await createSnapshotStore(kind, {
        mongo: { client, database },
        filesystem: { root },
        s3: {
          client: s3Client(),
          bucket: resolveEndpoints().s3.bucket,
          prefix,
          classifyError: classifyS3Error,
        },
      });
      stores.push([store, jobId]);
      const head = new MemoryHeadSource();
      const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
      const shared = Array.from({ length: DOCUMENTS / 2 }, (_, n) =>
        BSON.serialize({ _id: n, pad: randomBytes(150).toString('base64') }),
      );
      let position = 1000;
      const snapshot = async (snapshotId: string): Promise<SnapshotRecord> => {
        const own = Array.from({ length: DOCUMENTS / 2 }, (_, n) =>
          BSON.serialize({ _id: DOCUMENTS / 2 + n, pad: randomBytes(150).toString('base64') }),
        );
        head.setNamespace(jobId, syncId, 'shop.items', [...shared, ...own]);
        head.setApplied(jobId, syncId, opTime(position++, 1));
        const record = await taker.take({
          jobId,
          syncId,
          snapshotId,
          owner: `taker-${process.pid}`,
          encoding: { codec: 'gzip' },
          chunking: { minSize: 1024, avgSize: 4096, maxSize: 16384 },
        });
        assert.equal(record.state, 'complete', record.reason);
        return record;
      };

      const keepOld = await snapshot('keep-old');
      for (let k = 1; k <= EXPIRED; k++) await snapshot(`expired-${k}`);
      const keepNew = await snapshot('keep-new');
      for (let k = 1; k <= EXPIRED; k++) await store.deleteSnapshot(jobId, `expired-${k}`);
      const referenced = addressesOf(keepOld, keepNew);
      const before = await blocksOf(store, jobId);
      const garbage = new Set([...before].filter((a) => !referenced.has(a)));
      assert.ok(garbage.size >= 100, `only ${garbage.size} unreferenced blocks: too few to kill mid-sweep`);
      assert.ok(
        [...referenced].every((a) => before.has(a)),
        'a referenced block is missing before grooming',
      );

      const killAt = Math.ceil(garbage.size / 3);
      const reported = await killMidGrooming(
        [kind, where, jobId, String(DEAD_LOCK_TTL_MS), String(BATCH), prefix],
        killAt,
      );

      // The kill landed mid-sweep: some, not all, of the garbage is gone, and nothing else.
      const atKill = await blocksOf(store, jobId);
      const gone = [...garbage].filter((a) => !atKill.has(a)).length;
      // s3 only: objects in the bucket that no index entry names (a kill between a block's two deletes; a pack
      // goes only with its last block).
      const unnamed = async () => {
        if (kind !== 's3') return 0;
        const named = await indexedKeys(client, database, jobId);
        return [...(await objectsOf(jobId, prefix))].filter((k) => !named.has(k)).length;
      };
      const unnamedAtKill = await unnamed();
      console.log(
        `${kind}: ${garbage.size} unreferenced of ${before.size} blocks; killed after ${reported} reported deletions, ${gone} gone` +
          (kind === 's3' ? `; ${unnamedAtKill} objects left that no index entry names` : ''),
      );
      assert.ok(
        unnamedAtKill <= BATCH,
        `${unnamedAtKill} objects without an index entry: more than the batch in flight`,
      );
      const missing = [...referenced].filter((a) => !atKill.has(a));
      assert.deepEqual(missing, [], 'a block a retained snapshot references was deleted');
      assert.ok(gone >= killAt && gone < garbage.size, `${gone} of ${garbage.size} gone at the kill`);
      // Records read as they did: the two retained snapshots, complete, verifying; nothing else looks complete.
      const records = await store.listSnapshots(jobId);
      assert.deepEqual(
        records.map((r) => [r.manifest.snapshotId, r.state]),
        [
          ['keep-new', 'complete'],
          ['keep-old', 'complete'],
        ],
      );
      for (const record of records) await assertVerifies(store, record, 'after the kill');

      // The dead groomer's lock still holds; once it expires, the next grooming deletes exactly the rest.
      assert.equal(
        await store.acquireLock(jobId, 'survivor', 1_000),
        undefined,
        'the lock was free at once: was the groomer holding it?',
      );
      const t0 = Date.now();
      let report: GroomReport | undefined;
      while (report === undefined) {
        try {
          report = await groom(store, { jobId, owner: 'survivor', graceMs: 0 });
        } catch (err) {
          if (!(err instanceof StoreLockBusyError) || Date.now() - t0 > 60_000) throw err;
          await sleep(250);
        }
      }
      assert.equal(report.stopped, undefined);
      assert.equal(report.blocksDeleted, garbage.size - gone, JSON.stringify(report));
      const groomed = await blocksOf(store, jobId);
      assert.deepEqual([...groomed].sort(), [...referenced].sort());
      if (kind === 's3') {
        const left = await unnamed();
        console.log(`s3: after the next grooming, ${left} objects that no index entry names`);
        assert.equal(left, 0, `${left} unnamed objects after grooming, ${unnamedAtKill} at the kill`);
        assert.equal(report.leftoversRemoved, unnamedAtKill);
      }
      await assertVerifies(store, keepOld, 'after the next grooming');
      await assertVerifies(store, keepNew, 'after the next grooming');

      const next = await snapshot('after-the-crash');
      await assertVerifies(store, next, 'the next snapshot');
      await assertVerifies(store, keepOld, 'after the next snapshot');
    });
  }
});
