/**
 * Retention with a compressed clock, on real stores (a directory; the backup-side MongoDB): the snapshotter's
 * `SnapshotWorker` ticks with an injected clock advanced by the job's interval, over more than two simulated months,
 * while the head changes between ticks. After every tick:
 * - the retained set is exactly what the policy says, by an oracle written here from the policy's text
 *   (`libs/domain/src/snapshot-schedule.ts`: every snapshot younger than the base retention; beyond it, the newest
 *   snapshot of each of the last `daily` UTC days, `weekly` ISO weeks from Monday and `monthly` UTC months, the
 *   current one included), not with the product's `applyRetention`; the `expired` events name the same snapshots;
 * - grooming freed what is no longer needed: the store holds exactly the blocks the retained snapshots reference,
 *   and the bytes of the blocks only expired snapshots used are gone.
 * Every retained snapshot verifies once a simulated week and at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BSON, MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { opTime, type SnapshotEvent, type SnapshotRetention, type SnapshotSchedule } from '@tidemark/domain';
import {
  MemoryApplyFence,
  MemoryHeadSource,
  SnapshotWorker,
  verifySnapshot,
  type SnapshotJob,
  type SnapshotRecord,
  type SnapshotStore,
  type StoreKind,
  referencedBlocks,
} from '@tidemark/snapshots';
import { uniqueDbName } from '@tidemark/testing';
import { createSnapshotStore } from './create-snapshot-store';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const SCHEDULE: SnapshotSchedule = {
  intervalMinutes: 8 * 60,
  retention: { baseMinutes: 2 * 24 * 60, daily: 4, weekly: 3, monthly: 2 },
  pointInTimeWindowHours: 0,
};
/** A Wednesday midnight: ticks land on day, week and month boundaries. */
const START = Date.parse('2027-01-20T00:00:00Z');
/** To late March: two month boundaries (January's snapshot leaves the monthly two), eight week boundaries. */
const DAYS = 60;

interface Taken {
  readonly id: string;
  readonly takenAt: number;
}

/**
 * The policy, from its text: keep every snapshot younger than the base retention, and the newest of each of the last
 * `daily` days, `weekly` weeks and `monthly` months (UTC; weeks start on Monday), the current period included.
 */
function policyKeeps(
  snapshots: readonly Taken[],
  retention: SnapshotRetention,
  now: number,
): Map<string, string[]> {
  const keep = new Map<string, string[]>();
  const kept = (s: Taken, why: string) => keep.set(s.id, [...(keep.get(s.id) ?? []), why]);
  for (const s of snapshots) if (now - s.takenAt < retention.baseMinutes * MINUTE) kept(s, 'base');
  const day = (t: number) => Math.floor(t / DAY);
  const week = (t: number) => Math.floor((day(t) + 3) / 7); // day 0, 1970-01-01, was a Thursday
  const month = (t: number) => new Date(t).getUTCFullYear() * 12 + new Date(t).getUTCMonth();
  const periods: Array<[string, number, (t: number) => number]> = [
    ['daily', retention.daily, day],
    ['weekly', retention.weekly, week],
    ['monthly', retention.monthly, month],
  ];
  for (const [name, count, period] of periods) {
    const current = period(now);
    const newest = new Map<number, Taken>();
    for (const s of snapshots) {
      const p = period(s.takenAt);
      if (p <= current - count || p > current) continue;
      const seen = newest.get(p);
      if (seen === undefined || s.takenAt > seen.takenAt) newest.set(p, s);
    }
    for (const s of newest.values()) kept(s, name);
  }
  return keep;
}

function addressesOf(records: readonly SnapshotRecord[]): Set<string> {
  return new Set(records.flatMap((r) => [...referencedBlocks(r.manifest)]));
}

async function blocksOf(store: SnapshotStore, jobId: string): Promise<Set<string>> {
  const blocks = new Set<string>();
  for await (const address of store.listBlocks(jobId)) blocks.add(address);
  return blocks;
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

describe('retention with a compressed clock', { concurrency: 1 }, () => {
  let client: MongoClient;
  let dir: string;
  const database = uniqueDbName('t_retention');

  before(async () => {
    client = await MongoClient.connect(resolveEndpoints().backup.uri);
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-retention-'));
  });
  after(async () => {
    await client.db(database).dropDatabase();
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['filesystem', 'blockstore'] as StoreKind[]) {
    it(`${kind}: ${DAYS} days at a ${SCHEDULE.intervalMinutes / 60} h interval: the retained set is the policy's, grooming frees the rest`, async () => {
      let now = START;
      const clock = () => now;
      const store = await createSnapshotStore(kind, {
        mongo: { client, database },
        filesystem: { root: path.join(dir, 'fs') },
        clock,
      });
      const job: SnapshotJob = {
        jobId: `ret${kind === 'filesystem' ? 'fs' : 'bs'}`,
        syncId: `ret${kind === 'filesystem' ? 'fs' : 'bs'}-s1`,
        schedule: SCHEDULE,
        store: kind === 'filesystem' ? { kind, path: path.join(dir, 'fs') } : { kind },
      };
      const head = new MemoryHeadSource();
      // One namespace never changes (one block every snapshot shares), one changes before every tick.
      head.setNamespace(
        job.jobId,
        job.syncId,
        'shop.static',
        Array.from({ length: 50 }, (_, n) => BSON.serialize({ _id: n, name: `item ${n}` })),
      );
      const items = Array.from({ length: 200 }, (_, n) => ({ _id: n, v: 0, pad: `${n}`.repeat(40) }));
      const events: SnapshotEvent[] = [];
      const problems: Array<Record<string, unknown>> = [];
      const worker = new SnapshotWorker({
        jobs: {
          listSnapshotting: async () => [job],
          get: async (id) => (id === job.jobId ? { ...job, createsSnapshots: true } : undefined),
        },
        storeFor: async () => store,
        keyFor: async () => undefined,
        head,
        fence: new MemoryApplyFence(clock),
        events: { publish: async (e) => void events.push(e) },
        owner: `snapshotter-${process.pid}`,
        clock,
        log: (e) => {
          if (/failed|error|deferred/.test(String(e.event))) problems.push(e);
        },
      });

      let expected: Taken[] = [];
      const sizes = new Map<string, number>();
      let blocks = new Set<string>();
      const bytesOf = (set: Iterable<string>) => [...set].reduce((n, a) => n + (sizes.get(a) ?? NaN), 0);
      let expirations = 0;
      const soleReasons = new Set<string>();
      /** Why the snapshots that expired had been kept until then. */
      const outgrown = new Set<string>();
      let keptBefore = new Map<string, string[]>();
      let freedTotal = 0;
      const t0 = Date.now();
      const ticks = (DAYS * DAY) / (SCHEDULE.intervalMinutes * MINUTE);
      for (let tick = 0; tick < ticks; tick++, now += SCHEDULE.intervalMinutes * MINUTE) {
        const when = new Date(now).toISOString();
        for (let k = 0; k < 3; k++) items[(tick * 7 + k * 61) % items.length]!.v = tick + 1;
        head.setNamespace(
          job.jobId,
          job.syncId,
          'shop.items',
          items.map((d) => BSON.serialize(d)),
        );
        head.setApplied(job.jobId, job.syncId, opTime(1_000 + tick, 1));
        const eventsBefore = events.length;

        await worker.tick();

        assert.deepEqual(problems, [], `${when}: the worker reported problems`);
        const records = await store.listSnapshots(job.jobId);
        const taken = records.filter((r) => !expected.some((e) => e.id === r.manifest.snapshotId));
        assert.deepEqual(
          taken.map((r) => [r.state, r.manifest.takenAt.getTime()]),
          [['complete', now]],
          `${when}: one snapshot is due every tick`,
        );
        const candidates = [...expected, { id: taken[0]!.manifest.snapshotId, takenAt: now }];
        const keep = policyKeeps(candidates, SCHEDULE.retention, now);
        const expiredNow = candidates.filter((s) => !keep.has(s.id)).map((s) => s.id);
        assert.deepEqual(
          sorted(records.map((r) => r.manifest.snapshotId)),
          sorted(keep.keys()),
          `${when}: retained set`,
        );
        for (const why of keep.values()) if (why.length === 1) soleReasons.add(why[0]!);
        for (const id of expiredNow) for (const why of keptBefore.get(id) ?? []) outgrown.add(why);
        keptBefore = keep;
        assert.ok(
          records.every((r) => r.state === 'complete'),
          `${when}: a retained record is not complete`,
        );
        const expiredEvents = events.slice(eventsBefore).filter((e) => e.event === 'expired');
        assert.deepEqual(
          sorted(expiredEvents.map((e) => e.snapshotId)),
          sorted(expiredNow),
          `${when}: expired events`,
        );

        // Grooming: the store holds exactly what the retained snapshots reference; what only the expired used is gone.
        const after = await blocksOf(store, job.jobId);
        for (const address of after) {
          if (!sizes.has(address)) sizes.set(address, (await store.getBlock(job.jobId, address)).length);
        }
        assert.deepEqual(sorted(after), sorted(addressesOf(records)), `${when}: blocks = referenced blocks`);
        const freed = [...blocks].filter((a) => !after.has(a));
        if (expiredNow.length > 0) {
          expirations += expiredNow.length;
          // Freed: exactly the blocks only the expired snapshots needed. That may be none: an expired snapshot's
          // blocks can all still serve retained snapshots as delta bases.
          const needed = addressesOf(records);
          assert.deepEqual(
            sorted(freed),
            sorted([...blocks].filter((a) => !needed.has(a))),
            `${when}: freed is not what only the ${expiredNow.length} expired snapshots needed`,
          );
          freedTotal += bytesOf(freed);
        } else {
          assert.deepEqual(freed, [], `${when}: blocks freed while nothing expired`);
        }
        blocks = after;
        expected = candidates.filter((s) => keep.has(s.id));

        if (tick % 28 === 27 || tick === ticks - 1) {
          for (const record of records) {
            const report = await verifySnapshot(store, record);
            assert.ok(
              report.ok,
              `${when}: ${record.manifest.snapshotId}: ${JSON.stringify(report.damage.slice(0, 2))}`,
            );
          }
        }
      }
      console.log(
        `${kind}: ${ticks} ticks in ${Date.now() - t0} ms; ${expirations} expired; ${expected.length} retained ` +
          `(${sorted(soleReasons).join(', ')} each the only reason for some; expired after ${sorted(outgrown).join(', ')}); ${blocks.size} blocks, ${bytesOf(blocks)} bytes stored, ${freedTotal} bytes freed`,
      );
      assert.equal(expirations + expected.length, ticks);
      assert.ok(freedTotal > 0, 'grooming never freed a block');
      // Each rule was, at some tick, the only reason to keep a snapshot, and each let one go later: the run
      // exercised all four.
      assert.deepEqual(sorted(soleReasons), ['base', 'daily', 'monthly', 'weekly']);
      assert.deepEqual(sorted(outgrown), ['base', 'daily', 'monthly', 'weekly']);
    });
  }
});
