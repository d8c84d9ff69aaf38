/**
 * A snapshotter SIGKILLed mid-snapshot, on real stores (a directory; the backup-side MongoDB): the snapshot it was
 * taking is never marked complete, every block a complete snapshot references is there, and once the dead holder's
 * lock expires the next snapshot succeeds, verifies, and grooming frees what the dead one left.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { opTime } from '@tidemark/domain';
import {
  groom,
  MemoryApplyFence,
  MemoryHeadSource,
  SnapshotTaker,
  SnapshotUnavailableError,
  verifySnapshot,
  type StoreKind,
} from '@tidemark/snapshots';
import { uniqueDbName } from '@tidemark/testing';
import { createSnapshotStore } from './create-snapshot-store';

const TAKE_ONE = path.join(__dirname, 'testing', 'take-one.ts');

/** Starts the taker and SIGKILLs it once it has stored its first blocks; resolves when it is dead. */
async function killMidSnapshot(args: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', TAKE_ONE, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('started')) {
        setTimeout(() => child.kill('SIGKILL'), 50);
      }
      if (out.includes('finished')) reject(new Error('the snapshot finished before it could be killed'));
    });
    child.on('exit', () => resolve());
  });
}

describe('a snapshotter killed mid-snapshot', { concurrency: 1 }, () => {
  let client: MongoClient;
  let dir: string;
  const database = uniqueDbName('t_snapcrash');

  before(async () => {
    client = await MongoClient.connect(resolveEndpoints().backup.uri);
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-snap-crash-'));
  });
  after(async () => {
    await client.db(database).dropDatabase();
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['filesystem', 'blockstore'] as StoreKind[]) {
    it(`${kind}: nothing looks complete that is not; the next snapshot succeeds after the lock expires`, async () => {
      const root = path.join(dir, 'fs');
      const where = kind === 'filesystem' ? root : database;
      const jobId = `crash${kind === 'filesystem' ? 'fs' : 'bs'}`;
      const store = await createSnapshotStore(kind, { mongo: { client, database }, filesystem: { root } });
      await killMidSnapshot([kind, where, jobId, 'dead', kind === 'filesystem' ? '20000' : '6000']);

      const dead = await store.getSnapshot(jobId, 'dead');
      assert.notEqual(dead?.state, 'complete', 'a killed snapshot reads as complete');
      let orphans = 0;
      for await (const _ of store.listBlocks(jobId)) orphans++;
      assert.ok(
        orphans > 0,
        'the killed snapshot had stored no block: the kill came too late to test anything',
      );

      const syncId = `${jobId}-s1`;
      const head = new MemoryHeadSource();
      head.setNamespace(jobId, syncId, 'shop.items', [BSON.serialize({ _id: 1, after: 'the crash' })]);
      head.setApplied(jobId, syncId, opTime(6000, 1));
      const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
      const t0 = Date.now();
      for (;;) {
        try {
          const record = await taker.take({
            jobId,
            syncId,
            snapshotId: 'next',
            owner: 'survivor',
            encoding: { codec: 'gzip' },
            timings: { leaseTtlMs: 3_000 },
          });
          assert.equal(record.state, 'complete', record.reason);
          break;
        } catch (err) {
          // The dead taker's lock holds until it expires (3 s): then the survivor gets it.
          if (!(err instanceof SnapshotUnavailableError) || Date.now() - t0 > 60_000) throw err;
          await sleep(250);
        }
      }
      const next = await store.getSnapshot(jobId, 'next');
      assert.ok((await verifySnapshot(store, next!)).ok);
      // The dead snapshot's blocks belong to no complete snapshot: grooming (no grace) frees them, the survivor's stay.
      await store.deleteSnapshot(jobId, 'dead');
      const report = await groom(store, { jobId, owner: 'groomer', graceMs: 0 });
      assert.ok(report.blocksDeleted > 0, JSON.stringify(report));
      assert.ok((await verifySnapshot(store, next!)).ok);
      if (kind === 'filesystem') {
        // Nor is any temporary file of the dead writer left (they are older than the grace period of 0).
        const files = (await readdir(path.join(root, jobId), { recursive: true })).map(String);
        assert.deepEqual(
          files.filter((f) => f.includes('.tmp-')),
          [],
        );
        assert.equal(typeof report.leftoversRemoved, 'number');
      }
    });
  }
});
