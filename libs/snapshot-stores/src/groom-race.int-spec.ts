/**
 * Grooming races new snapshots from another process, many times, on real stores (a directory; the backup-side
 * MongoDB): a groomer process grooms the job in a loop with random pauses while this process takes snapshots of a
 * changing head (retrying when the lock is busy) and expires old ones. After every round every retained snapshot
 * verifies: no block a retained or in-progress snapshot needs is ever deleted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { opTime } from '@tidemark/domain';
import {
  MemoryApplyFence,
  MemoryHeadSource,
  SnapshotTaker,
  SnapshotUnavailableError,
  verifySnapshot,
  type SnapshotStore,
  type StoreKind,
} from '@tidemark/snapshots';
import { uniqueDbName } from '@tidemark/testing';
import { createSnapshotStore } from './create-snapshot-store';

const ROUNDS = 50;
const LOOP = path.join(__dirname, 'testing', 'groom-loop.ts');

describe('grooming races snapshots in another process', { concurrency: 1 }, () => {
  let client: MongoClient;
  let dir: string;
  const database = uniqueDbName('t_groomrace');

  before(async () => {
    client = await MongoClient.connect(resolveEndpoints().backup.uri);
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-groom-race-'));
  });
  after(async () => {
    await client.db(database).dropDatabase();
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['filesystem', 'blockstore'] as const) {
    it(
      `${kind}: ${ROUNDS} rounds, every retained snapshot verifies after each`,
      { timeout: 900_000 },
      async () => {
        const where = kind === 'filesystem' ? path.join(dir, 'fs') : database;
        const store = await createSnapshotStore(kind, {
          mongo: { client, database },
          filesystem: { root: path.join(dir, 'fs') },
        });
        const jobId = `race${kind === 'filesystem' ? 'fs' : 'bs'}`;
        const groomer = startGroomer(kind, where, jobId, ROUNDS * 4);
        try {
          const verified = await raceRounds(store, jobId);
          assert.ok(verified >= ROUNDS, `only ${verified} verifications`);
          assert.ok(groomer.deleted() > 0, 'the groomer never deleted a block: the race was not exercised');
        } finally {
          groomer.child.kill('SIGKILL');
        }
        console.log(`${kind}: groomer rounds ${groomer.lines.length}, blocks deleted ${groomer.deleted()}`);
      },
    );
  }
});

function startGroomer(kind: StoreKind, where: string, jobId: string, rounds: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', LOOP, kind, where, jobId, String(rounds)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    },
  );
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
  });
  const deleted = () => lines.reduce((n, l) => n + ((JSON.parse(l) as { deleted?: number }).deleted ?? 0), 0);
  return { child, lines, deleted };
}

/** Rounds of: change the head, snapshot it (retrying while the lock is busy), expire the oldest, verify all. */
async function raceRounds(store: SnapshotStore, jobId: string): Promise<number> {
  const syncId = `${jobId}-s1`;
  const head = new MemoryHeadSource();
  const docs = Array.from({ length: 400 }, (_, n) => ({ _id: n, v: 0, pad: `${n}`.repeat(300) }));
  const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
  let verified = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // 5% of documents change each round, so old snapshots keep blocks the new ones do not.
    for (let k = 0; k < 20; k++) docs[Math.floor(Math.random() * docs.length)]!.v = round * 1000 + k;
    head.setNamespace(
      jobId,
      syncId,
      'shop.items',
      docs.map((d) => BSON.serialize(d)),
    );
    head.setApplied(jobId, syncId, opTime(1000 + round, 1));
    for (let attempt = 0; ; attempt++) {
      try {
        const record = await taker.take({
          jobId,
          syncId,
          snapshotId: `s${String(round).padStart(3, '0')}`,
          owner: `taker-${process.pid}`,
          encoding: { codec: 'gzip' },
          chunking: { minSize: 1024, avgSize: 4096, maxSize: 16384 },
          timings: { leaseTtlMs: 10_000, fenceWaitMs: 1_000 },
        });
        assert.equal(record.state, 'complete', record.reason);
        break;
      } catch (err) {
        if (!(err instanceof SnapshotUnavailableError) || attempt > 200) throw err;
        await sleep(Math.floor(Math.random() * 30));
      }
    }
    // Retention: keep the newest three records.
    const records = await store.listSnapshots(jobId);
    for (const old of records.slice(3)) await store.deleteSnapshot(jobId, old.manifest.snapshotId);
    for (const record of (await store.listSnapshots(jobId)).filter((r) => r.state === 'complete')) {
      const report = await verifySnapshot(store, record);
      assert.ok(
        report.ok,
        `round ${round}: ${record.manifest.snapshotId} lost blocks: ${JSON.stringify(report.damage.slice(0, 3))}`,
      );
      verified++;
    }
  }
  return verified;
}
