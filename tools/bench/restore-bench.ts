/**
 * `npm run bench:restore`: figures for restores on the real servers (not a test; it prints numbers). Needs the
 * servers (`npx tidemark infra up`). In one run, against the backup-side FerretDB as the target:
 *  1. snapshot restore: a snapshot of TIDEMARK_BENCH_RESTORE_MB (default 10) MB (~600-byte documents, half in each of
 *     two collections) taken into a filesystem store, restored with `restoreSnapshot` through `DeploymentTarget`
 *     (the CLI's path), against a plain unordered `insertMany` of the same documents (decoded beforehand, batches of
 *     1000, one batch at a time) into the same target: docs/s and MB/s, and their ratio. A second, stricter limit:
 *     the same `insertMany`s with as many batches in flight as the restore has (`insertConcurrency`, over both
 *     namespaces), so a ratio above 1 against the first shows what the restore's concurrency buys, and the second
 *     what its own work (reading, checking and decoding the stored blocks) costs. TIDEMARK_BENCH_ROUNDS rounds
 *     (default 3), alternating; the ratio of the better of each, and the median of the rounds' own ratios (each
 *     round's runs back to back, under the same load);
 *  2. point-in-time replay: TIDEMARK_BENCH_REPLAY_ENTRIES (default 5000) oplog entries (inserts, then whole-document
 *     updates and deletes of them, MongoDB's format) stored as slices in an oplog store of the bench's own, replayed by
 *     `restorePointInTime` onto a restored empty snapshot, against the head's applier (`OplogApplier` over
 *     `MongoApplyTarget`, the oplog-applier's) applying the same entries from memory: entries/s and their ratio;
 *  3. restore peak memory (VmHWM of a child process that only restores) at 1x and 4x TIDEMARK_BENCH_MEMORY_MB
 *     (default the restore size).
 * Everything it creates (databases, the temp directory) is removed at the end, also on failure.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BSON, MongoClient, Timestamp, type Document } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { DEFAULT_SLICE_LIMITS, restorableWindow, storedPosition, type OpTime } from '@tidemark/domain';
import { openSliceEntries } from '@tidemark/head-database';
import { MongoApplyTarget, MongoHeadWriter } from '@tidemark/head-database-mongo';
import { OplogApplier } from '@tidemark/oplog-apply';
import { MongoOplogStore } from '@tidemark/oplog-store';
import {
  DeploymentTarget,
  parseRestorePoint,
  restorePointInTime,
  restoreSnapshot,
  storedOplogEntries,
} from '@tidemark/restore';
import { MongoNamespaceAdmin } from '@tidemark/restore-mongo';
import { FileSystemSnapshotStore } from '@tidemark/snapshot-stores';
import { decodeSlicePayload, encodeSlicePayload, oplogSliceId, oplogSliceMeta } from '@tidemark/slices';
import {
  MemoryApplyFence,
  MemoryHeadSource,
  readNamespace,
  SnapshotTaker,
  type SnapshotManifest,
} from '@tidemark/snapshots';

import { f, hr, log, MB, phasesFromEnv, positiveFromEnv } from './bench-support';
const num = positiveFromEnv;
const RESTORE_MB = num('TIDEMARK_BENCH_RESTORE_MB', 10);
const REPLAY_ENTRIES = Math.round(num('TIDEMARK_BENCH_REPLAY_ENTRIES', 5000));
// 40 MB: below it the V8 heap is still growing into its steady size (10 MB: 146 MiB, 40 MB: 196 MiB, 160 MB: 209 MiB).
const MEMORY_MB = num('TIDEMARK_BENCH_MEMORY_MB', 40);
/** Rounds of insertMany and restore, alternating; the better of each is kept. */
const ROUNDS = Math.round(num('TIDEMARK_BENCH_ROUNDS', 3));
/** Which phases run (TIDEMARK_BENCH_PHASES, comma-separated; default all): restore, replay, memory. */
const PHASES = phasesFromEnv(['restore', 'replay', 'memory']);
/** The restore's tuning (`RestoreTuning`): TIDEMARK_BENCH_RESTORE_INSERTS batches in flight, ..._NAMESPACES at once. */
const TUNING = {
  insertConcurrency: Math.round(num('TIDEMARK_BENCH_RESTORE_INSERTS', 4)),
  namespaceConcurrency: Math.round(num('TIDEMARK_BENCH_RESTORE_NAMESPACES', 2)),
};
const JOB = 'benchrestore';
const SYNC = `${JOB}-s1`;
const NAMESPACES = ['shop.orders', 'shop.events'];
const s = `${Date.now().toString(36).slice(-6)}${randomBytes(2).toString('hex')}`;
const since = (t0: bigint) => Number(hr() - t0) / 1e9;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]! / 2 + sorted[Math.ceil((sorted.length - 1) / 2)]! / 2;
}

/** ~600-byte documents, `_id` strings in order, half per namespace. */
function documents(mb: number): Map<string, Uint8Array[]> {
  const count = Math.round((mb * MB) / 600);
  const out = new Map<string, Uint8Array[]>(NAMESPACES.map((ns) => [ns, []]));
  for (let i = 0; i < count; i++) {
    const ns = NAMESPACES[i % NAMESPACES.length]!;
    out.get(ns)!.push(
      BSON.serialize({
        _id: `d${String(i).padStart(9, '0')}`,
        rev: 1,
        pad: randomBytes(273).toString('hex'),
      }),
    );
  }
  return out;
}

async function snapshotOf(
  root: string,
  docs: Map<string, Uint8Array[]>,
  at: OpTime,
): Promise<{ store: FileSystemSnapshotStore; manifest: SnapshotManifest }> {
  const head = new MemoryHeadSource();
  for (const [ns, list] of docs)
    head.setNamespace(JOB, SYNC, ns, list, {}, [
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { rev: 1 }, name: 'rev_1' },
    ]);
  head.setApplied(JOB, SYNC, at, new Date(at.t * 1000));
  const store = new FileSystemSnapshotStore({ root });
  const taker = new SnapshotTaker({ head, fence: new MemoryApplyFence(), store });
  const record = await taker.take({
    jobId: JOB,
    syncId: SYNC,
    snapshotId: `bench-${s}-${path.basename(root)}`,
    owner: 'bench',
    encoding: { codec: 'gzip' },
  });
  if (record.state !== 'complete') throw new Error(`the bench snapshot is ${record.state}: ${record.reason}`);
  return { store, manifest: record.manifest };
}

const renameTo = (db: string) => ({ include: [], exclude: [], renames: [{ from: 'shop', to: db }] });

/** A child process mode: restore the snapshot under argv root into db, print VmHWM. */
async function childRestore(root: string, snapshotId: string, db: string): Promise<void> {
  const client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  try {
    const store = new FileSystemSnapshotStore({ root });
    const record = await store.getSnapshot(JOB, snapshotId);
    if (record === undefined) throw new Error('no snapshot');
    await restoreSnapshot({
      snapshot: record.manifest,
      documents: (ns) => readNamespace(store, record.manifest, ns),
      target: new DeploymentTarget(new MongoHeadWriter(client), new MongoNamespaceAdmin(client)),
      selection: renameTo(db),
      tuning: TUNING,
    });
  } finally {
    await client.close();
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  process.stdout.write(`VmHWM ${hwm}\n`);
}

async function peakMemory(mb: number, dir: string, client: MongoClient, dbs: string[]): Promise<number> {
  const root = path.join(dir, `mem-${mb}`);
  const { manifest } = await snapshotOf(root, documents(mb), { t: 1_800_000_000, i: 1 });
  const db = `bench_rs_${s}_mem${Math.round(mb)}`;
  dbs.push(db);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', __filename, '--child', root, manifest.snapshotId, db],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}`))));
  });
  void client;
  const kb = Number(/VmHWM (\d+)/.exec(out)?.[1]);
  return kb / 1024;
}

/** Oplog entries in MongoDB's format: inserts of new documents, then whole-document updates and deletes of them. */
function oplogEntries(n: number, start: OpTime): Buffer[] {
  const entries: Buffer[] = [];
  const inserts = Math.ceil(n / 2);
  let i = start.i;
  const ts = () => new Timestamp({ t: start.t, i: ++i });
  for (let k = 0; k < n; k++) {
    const ns = NAMESPACES[k % NAMESPACES.length]!;
    let entry: Document;
    if (k < inserts) {
      entry = {
        op: 'i',
        ns,
        o: { _id: `r${k}`, rev: 1, pad: 'x'.repeat(540) },
        ts: ts(),
        t: 1n,
        v: 2,
        wall: new Date(),
      };
    } else if (k % 4 !== 0) {
      const id = `r${((k - inserts) * 2) % inserts}`;
      const nsOf = NAMESPACES[Number(id.slice(1)) % NAMESPACES.length]!;
      entry = {
        op: 'u',
        ns: nsOf,
        o: { _id: id, rev: 2, pad: 'y'.repeat(540) },
        o2: { _id: id },
        ts: ts(),
        t: 1n,
        v: 2,
        wall: new Date(),
      };
    } else {
      const id = `r${(((k - inserts) * 2) % inserts) + 1}`;
      const nsOf = NAMESPACES[Number(id.slice(1)) % NAMESPACES.length]!;
      entry = { op: 'd', ns: nsOf, o: { _id: id }, ts: ts(), t: 1n, v: 2, wall: new Date() };
    }
    entries.push(Buffer.from(BSON.serialize(entry, { useBigInt64: true } as never)));
  }
  return entries;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child')
    return childRestore(process.argv[3]!, process.argv[4]!, process.argv[5]!);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-restore-bench-'));
  const client = await new MongoClient(resolveEndpoints().backup.uri).connect();
  const dbs: string[] = [];
  const fresh = (name: string) => {
    const db = `bench_rs_${s}_${name}`;
    dbs.push(db);
    return db;
  };
  try {
    const rows: string[][] = [['figure', 'value', 'limit', 'ratio']];
    // 1. snapshot restore vs insertMany
    if (PHASES.has('restore')) {
      const docs = documents(RESTORE_MB);
      const total = [...docs.values()].reduce((n, l) => n + l.length, 0);
      const bytes = [...docs.values()].flat().reduce((n, d) => n + d.length, 0);
      const { store, manifest } = await snapshotOf(path.join(dir, 'restore'), docs, {
        t: 1_800_000_000,
        i: 10,
      });
      log(`snapshot of ${total} documents, ${f(bytes / MB)} MB, taken into a filesystem store`);
      const decoded = new Map([...docs].map(([ns, list]) => [ns, list.map((d) => BSON.deserialize(d))]));
      let bestPlain = Infinity;
      let bestParallel = Infinity;
      let bestRestore = Infinity;
      const paired: number[] = [];
      const pairedParallel: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const plainDb = fresh(`plain${round}`);
        let t0 = hr();
        for (const [ns, list] of decoded) {
          const coll = client.db(plainDb).collection(ns.slice(ns.indexOf('.') + 1));
          for (let k = 0; k < list.length; k += 1000)
            await coll.insertMany(
              list.slice(k, k + 1000).map((d) => ({ ...d })),
              { ordered: false },
            );
        }
        const plain = since(t0);
        // The same batches, `insertConcurrency` in flight across both namespaces (as the restore has them).
        const parallelDb = fresh(`parallel${round}`);
        const batches = [...decoded].flatMap(([ns, list]) =>
          Array.from({ length: Math.ceil(list.length / 1000) }, (_, b) => ({
            coll: client.db(parallelDb).collection(ns.slice(ns.indexOf('.') + 1)),
            docs: list.slice(b * 1000, b * 1000 + 1000),
          })),
        );
        t0 = hr();
        let next = 0;
        await Promise.all(
          Array.from({ length: TUNING.insertConcurrency }, async () => {
            while (next < batches.length) {
              const batch = batches[next++]!;
              await batch.coll.insertMany(
                batch.docs.map((d) => ({ ...d })),
                { ordered: false },
              );
            }
          }),
        );
        const parallel = since(t0);
        const restoreDb = fresh(`restore${round}`);
        t0 = hr();
        const result = await restoreSnapshot({
          snapshot: manifest,
          documents: (ns) => readNamespace(store, manifest, ns),
          target: new DeploymentTarget(new MongoHeadWriter(client), new MongoNamespaceAdmin(client)),
          selection: renameTo(restoreDb),
          tuning: TUNING,
        });
        const restore = since(t0);
        if (result.documents !== total) throw new Error(`restored ${result.documents} of ${total}`);
        log(
          `round ${round}: insertMany ${f(plain)} s, ${TUNING.insertConcurrency} in flight ${f(parallel)} s, ` +
            `restore ${f(restore)} s, ratios ${f(plain / restore, 3)} and ${f(parallel / restore, 3)} ` +
            `(load average ${os.loadavg()[0]!.toFixed(2)})`,
        );
        paired.push(plain / restore);
        pairedParallel.push(parallel / restore);
        bestPlain = Math.min(bestPlain, plain);
        bestParallel = Math.min(bestParallel, parallel);
        bestRestore = Math.min(bestRestore, restore);
      }
      rows.push([
        'snapshot restore',
        `${f(total / bestRestore, 0)} docs/s, ${f(bytes / MB / bestRestore)} MB/s`,
        `insertMany ${f(total / bestPlain, 0)} docs/s, ${f(bytes / MB / bestPlain)} MB/s`,
        f(bestPlain / bestRestore, 3),
      ]);
      rows.push([`  median of ${ROUNDS} paired rounds`, '', '', f(median(paired), 3)]);
      rows.push([
        `snapshot restore`,
        '(the same)',
        `insertMany, ${TUNING.insertConcurrency} in flight ${f(total / bestParallel, 0)} docs/s, ` +
          `${f(bytes / MB / bestParallel)} MB/s`,
        f(bestParallel / bestRestore, 3),
      ]);
      rows.push([`  median of ${ROUNDS} paired rounds`, '', '', f(median(pairedParallel), 3)]);
    }
    // 2. point-in-time replay vs the head's applier
    if (PHASES.has('replay')) {
      const oplogStore = new MongoOplogStore(client, `bench_rs_${s}_oplog`);
      dbs.push(`bench_rs_${s}_oplog`);
      await oplogStore.init();
      const base = { t: 1_800_000_000, i: 10 };
      const entries = oplogEntries(REPLAY_ENTRIES, base);
      let prevTs = base;
      for (let k = 0; k < entries.length; k += 500) {
        const part = entries.slice(k, k + 500);
        const first = BSON.deserialize(part[0]!)['ts'] as Timestamp;
        const last = BSON.deserialize(part[part.length - 1]!)['ts'] as Timestamp;
        const lastTs = { t: last.t, i: last.i };
        const payload = encodeSlicePayload(part, 'gzip');
        await oplogStore.put(
          oplogSliceMeta(
            { jobId: JOB, syncId: SYNC },
            {
              sliceId: oplogSliceId(SYNC, prevTs, lastTs),
              sequence: k,
              prevTs,
              firstTs: { t: first.t, i: first.i },
              lastTs,
            },
            payload,
          ),
          payload.payload,
        );
        prevTs = lastTs;
      }
      const emptyDocs = new Map(NAMESPACES.map((ns) => [ns, [] as Uint8Array[]]));
      const empty = await snapshotOf(path.join(dir, 'empty'), emptyDocs, base);
      const replayDb = fresh('replay');
      let t0 = hr();
      const applyTarget = new MongoApplyTarget(client, { readYourWrites: true });
      const pit = await restorePointInTime({
        snapshots: [empty.manifest],
        window: restorableWindow([empty.manifest], () => ({ from: base, to: storedPosition(prevTs) })),
        point: parseRestorePoint(`${prevTs.t}:${prevTs.i}`),
        documents: (m, ns) => readNamespace(empty.store, m as SnapshotManifest, ns),
        oplog: (syncId, after) =>
          storedOplogEntries(
            {
              store: oplogStore,
              decode: (p, meta) => decodeSlicePayload(p, meta, DEFAULT_SLICE_LIMITS),
              open: (raw, meta) => openSliceEntries(raw, meta, { verifyRoundTrip: true }),
            },
            JOB,
            syncId,
            after,
          ),
        applier: (mapNamespace) => new OplogApplier(applyTarget, { mapNamespace }),
        target: new DeploymentTarget(new MongoHeadWriter(client), new MongoNamespaceAdmin(client)),
        selection: renameTo(replayDb),
        now: new Date(8_000_000_000_000),
      });
      const replay = since(t0);
      if (pit.entries !== REPLAY_ENTRIES) throw new Error(`replayed ${pit.entries} of ${REPLAY_ENTRIES}`);
      const headDb = fresh('headapply');
      const decodedEntries = entries.map((e) =>
        BSON.deserialize(e, { promoteValues: false, promoteLongs: false }),
      );
      t0 = hr();
      const headApplier = new OplogApplier(applyTarget, {
        mapNamespace: (ns) => (ns.startsWith('shop') ? `${headDb}${ns.slice(4)}` : null),
      });
      for (const e of decodedEntries) await headApplier.applyEntry(e);
      const headApply = since(t0);
      rows.push([
        'point-in-time replay',
        `${f(REPLAY_ENTRIES / replay, 0)} entries/s`,
        `head applier ${f(REPLAY_ENTRIES / headApply, 0)} entries/s`,
        f(headApply / replay, 3),
      ]);
    }
    // 3. peak memory
    if (PHASES.has('memory')) {
      const small = await peakMemory(MEMORY_MB, dir, client, dbs);
      const large = await peakMemory(MEMORY_MB * 4, dir, client, dbs);
      rows.push([
        'restore peak memory (VmHWM)',
        `${f(large, 0)} MiB at ${MEMORY_MB * 4} MB`,
        `${f(small, 0)} MiB at ${MEMORY_MB} MB`,
        f(large / small, 3),
      ]);
    }

    const width = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log(rows.map((r) => r.map((cell, c) => cell.padEnd(width[c]!)).join('  ')).join('\n'));
  } finally {
    for (const db of dbs)
      await client
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
