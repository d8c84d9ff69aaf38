/**
 * `npm run bench:stand-in`: FerretDB on SQLite against FerretDB on PostgreSQL, side by side in one run, on the same
 * data (not a test; it prints a table). Needs only the cached FerretDB binary (`npx tidemark infra up` builds it)
 * and PostgreSQL's server binaries; it starts a FerretDB of its own per backend (scratch servers, deleted after),
 * both started at once and measured in turn, step by step (so a busy moment of the shared machine hits both).
 *
 * Per backend:
 *  1. before the oplog exists (as on the backup side, which has none): load collections of ~400-byte documents
 *     with ObjectId, string, integer and compound `_id`s to each size of BENCH_SIZES (default 10000,50000,200000),
 *     timing the inserts; at each size, `updateOne` and `deleteOne` by `_id` of random documents, median of
 *     BENCH_SAMPLES (default 10; 5 from 100,000 documents on); then raw scans of the largest collection
 *     (of the first kind; BENCH_KINDS picks kinds), BENCH_SCANS (default 3) per backend, alternating;
 *  2. oplog ordering under concurrent writers, on a fresh oplog: BENCH_WRITERS (default 4) clients insert one
 *     document at a time for BENCH_RACE_S (default 8) seconds while (a) a tailable cursor reads the oplog as a
 *     tailing reader would (reopened from its last `ts` when the server closes it) and (b) a poller re-reads the
 *     recent entries every 20 ms and notes when each entry first became visible. Afterwards: are the entries
 *     stored in `ts` order (natural order = `ts` order)? did the tailable cursor hand out every entry once, in
 *     `ts` order? was an entry ever visible after a later one (one bulk writer, 100 documents per insertMany, runs too) (a hole), and how long after its second ended (the
 *     stability delay a poller needs: an entry of second s is handed out once the clock passes s + 1 + delay)?
 *  3. oplog reads over BENCH_OPLOG_ENTRIES (default 20000) entries: the newest entry and the oldest (the agent's
 *     queries), one poll round of the agent (newest entries back to a position 1,000 entries old, with its 30 s
 *     margin), and a `ts` range query from that position; inserts with the oplog on are timed too.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { BSON, MongoClient, ObjectId, type Document, type Timestamp } from 'mongodb';
import {
  FERRETDB_BACKENDS,
  postgresBinDir,
  startScratchFerretdb,
  type FerretdbBackend,
  type ScratchFerretdb,
} from '@tidemark/testing';

const env = process.env;
const SIZES = (env['BENCH_SIZES'] ?? '10000,50000,200000').split(',').map(Number);
const SAMPLES = Number(env['BENCH_SAMPLES'] ?? 10);
const BIG_SAMPLES = Number(env['BENCH_BIG_SAMPLES'] ?? 5);
const WRITERS = Number(env['BENCH_WRITERS'] ?? 4);
const RACE_S = Number(env['BENCH_RACE_S'] ?? 8);
const OPLOG_ENTRIES = Number(env['BENCH_OPLOG_ENTRIES'] ?? 20_000);
const BACKENDS = (env['BENCH_BACKENDS'] ?? FERRETDB_BACKENDS.join(',')).split(',') as FerretdbBackend[];
const ALL_KINDS = ['objectid', 'string', 'int', 'compound'] as const;
type Kind = (typeof ALL_KINDS)[number];
const KINDS = (env['BENCH_KINDS'] ?? ALL_KINDS.join(',')).split(',') as Kind[];
const SCANS = Number(env['BENCH_SCANS'] ?? 3);
const PHASES = new Set((env['BENCH_PHASES'] ?? 'idops,race,oplog').split(','));
const DB = 'standin';

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0
    ? NaN
    : v.length % 2
      ? v[(v.length - 1) / 2]!
      : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

function idFor(kind: Kind, n: number): unknown {
  switch (kind) {
    case 'objectid':
      return ObjectId.createFromHexString(n.toString(16).padStart(24, '0'));
    case 'string':
      return `customer-${n.toString().padStart(9, '0')}`;
    case 'int':
      return n;
    case 'compound':
      return { region: n % 97, seq: n };
  }
}

/** ~400 bytes of BSON, deterministic in `n`. */
function docFor(kind: Kind, n: number): Document {
  return {
    _id: idFor(kind, n),
    n,
    name: `Customer ${n}`,
    email: `customer${n}@example.com`,
    city: ['Lisbon', 'Oslo', 'Quito', 'Accra', 'Hanoi'][n % 5],
    tags: ['a', 'b', 'c'].slice(0, 1 + (n % 3)),
    balance: (n * 37) % 10_000,
    createdAt: new Date(1_700_000_000_000 + n * 1000),
    note: 'x'.repeat(220),
  };
}

interface IdOps {
  size: number;
  kind: Kind;
  updateMs: number;
  deleteMs: number;
  samples: number;
}

interface BackendResult {
  backend: FerretdbBackend;
  idOps: IdOps[];
  insertDocsPerS: number;
  insertWithOplogDocsPerS: number;
  scan: { docs: number; mb: number; ms: number };
  oplog: {
    entries: number;
    newestMs: number;
    oldestMs: number;
    pollRoundMs: number;
    pollRoundEntries: number;
    rangeMs: number;
    rangeEntries: number;
  };
  race: RaceResult;
}

async function loadTo(
  client: MongoClient,
  kind: Kind,
  from: number,
  to: number,
): Promise<{ docs: number; ms: number }> {
  const coll = client.db(DB).collection(kind);
  const t0 = now();
  for (let n = from; n < to; n += 1000) {
    const docs: Document[] = [];
    for (let k = n; k < Math.min(to, n + 1000); k++) docs.push(docFor(kind, k));
    await coll.insertMany(docs);
  }
  return { docs: to - from, ms: ms(t0) };
}

/** Random distinct document numbers below `size` that are still there. */
function pick(size: number, count: number, gone: Set<number>): number[] {
  const out: number[] = [];
  while (out.length < count) {
    const n = Math.floor(Math.random() * size);
    if (gone.has(n) || out.includes(n)) continue;
    out.push(n);
  }
  return out;
}

/** Steps 1: every size and kind, each backend in turn (interleaved, so a busy moment of the machine hits both). */
async function measureIdOps(targets: Array<{ uri: string; r: BackendResult }>): Promise<void> {
  const clients = await Promise.all(targets.map((t) => new MongoClient(t.uri).connect()));
  try {
    const state = targets.map(() => ({
      loaded: { objectid: 0, string: 0, int: 0, compound: 0 } as Record<Kind, number>,
      gone: { objectid: new Set(), string: new Set(), int: new Set(), compound: new Set() } as Record<
        Kind,
        Set<number>
      >,
      insDocs: 0,
      insMs: 0,
    }));
    for (const size of SIZES) {
      for (const kind of KINDS) {
        for (const [b, { r }] of targets.entries()) {
          const st = state[b]!;
          const client = clients[b]!;
          const l = await loadTo(client, kind, st.loaded[kind], size);
          st.loaded[kind] = size;
          st.insDocs += l.docs;
          st.insMs += l.ms;
          const coll = client.db(DB).collection(kind);
          const samples = size >= 100_000 ? BIG_SAMPLES : SAMPLES;
          const up: number[] = [];
          const del: number[] = [];
          const picked = pick(size, samples * 2, st.gone[kind]);
          for (let i = 0; i < samples; i++) {
            let t0 = now();
            const u = await coll.updateOne(
              { _id: idFor(kind, picked[i]!) as never },
              { $set: { balance: -i } },
            );
            up.push(ms(t0));
            if (u.matchedCount !== 1) throw new Error(`${kind} update matched ${u.matchedCount}`);
            const victim = picked[samples + i]!;
            t0 = now();
            const d = await coll.deleteOne({ _id: idFor(kind, victim) as never });
            del.push(ms(t0));
            if (d.deletedCount !== 1) throw new Error(`${kind} delete removed ${d.deletedCount}`);
            st.gone[kind].add(victim);
          }
          r.idOps.push({ size, kind, updateMs: median(up), deleteMs: median(del), samples });
          log(
            `${r.backend} ${kind} @${size}: update ${median(up).toFixed(1)} ms, delete ${median(del).toFixed(1)} ms (${samples} each)`,
          );
        }
      }
    }
    for (const [b, { r }] of targets.entries())
      r.insertDocsPerS = state[b]!.insDocs / (state[b]!.insMs / 1000);
    // The raw scans alternate between the backends, SCANS rounds; the median round counts.
    const scans: Array<Array<{ docs: number; mb: number; ms: number }>> = targets.map(() => []);
    for (let round = 0; round < SCANS; round++) {
      for (const [b, { r }] of targets.entries()) {
        let bytes = 0;
        let docs = 0;
        const t0 = now();
        for await (const raw of clients[b]!.db(DB)
          .collection(KINDS[0]!)
          .find({}, { raw: true, batchSize: 1000 })) {
          bytes += (raw as unknown as Uint8Array).length;
          docs += 1;
        }
        scans[b]!.push({ docs, mb: bytes / 1e6, ms: ms(t0) });
        log(`${r.backend} raw scan: ${docs} documents in ${ms(t0).toFixed(0)} ms`);
      }
    }
    for (const [b, { r }] of targets.entries()) {
      const sorted = [...scans[b]!].sort((x, y) => x.ms - y.ms);
      r.scan = sorted[Math.floor((sorted.length - 1) / 2)]!;
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

interface RaceEntry {
  id: string;
  /** `ts` as one number (seconds * 2^32 + increment), its seconds, and the entry's `wall` time (ms). */
  key: number;
  t: number;
  wall: number;
}

interface RaceResult {
  written: number;
  entries?: RaceEntry[];
  /** PostgreSQL only: from each oplog row's commit time (track_commit_timestamp). */
  commits?: {
    rows: number;
    /** Entries committed after an entry with a later `ts`. */
    holes: number;
    /** max over entries: commit - `wall`, ms (how long an entry stays invisible after it got its `ts`). */
    maxCommitAfterWallMs: number;
    /** max over the holes: commit - end of its `ts` second, ms: the stability delay that would have sufficed. */
    holeDelayMs: number;
  };
  /** Pairs of neighbours in natural order whose `ts` goes backwards. */
  storedInversions: number;
  tailable: { delivered: number; missing: number; duplicates: number; outOfOrder: number; reopens: number };
  poll: {
    rounds: number;
    roundMs: number;
    /** Entries first seen after an entry with a later `ts` had been seen. */
    holes: number;
    /** max over entries: first seen - wall time of the write, ms. */
    maxVisibleAfterWriteMs: number;
    /** max over entries: first seen - end of the entry's `ts` second, ms (<= 0: visible before its second ended). */
    neededDelayMs: number;
    /** The same, over the entries seen after a later one only (the holes a poller must wait out). */
    holeDelayMs: number;
  };
}

const tsKey = (ts: Timestamp) => ts.high * 2 ** 32 + ts.low;

async function race(uri: string): Promise<RaceResult> {
  const admin = await new MongoClient(uri).connect();
  const oplog = admin
    .db('local')
    .collection<{ ts: Timestamp; ns: string; wall: Date; _id: ObjectId }>('oplog.rs');
  const ns = `${DB}.race`;
  const start = (await oplog.find({}, { sort: { $natural: -1 }, limit: 1 }).next())?.ts;
  const startKey = start ? tsKey(start) : 0;
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => new MongoClient(uri).connect()));
  let stop = false;
  let written = 0;
  const firstSeen = new Map<string, number>();
  const tsOf = new Map<string, { key: number; t: number; wall: number }>();
  const tailed: number[] = [];
  const tailedIds: string[] = [];
  let reopens = 0;
  let rounds = 0;
  let roundTotal = 0;
  let holes = 0;
  let maxSeenKey = startKey;
  const holeIds = new Set<string>();

  const tailer = (async () => {
    let from = start;
    const drainUntil = () => stop && Date.now() > drainDeadline;
    while (!drainUntil()) {
      const cursor = oplog.find(from ? { ts: { $gt: from } } : {}, {
        tailable: true,
        awaitData: true,
        batchSize: 0,
        // The agent's default wait. FerretDB re-runs the query within it and returns nothing when the query
        // (a sort of the whole oplog) takes longer.
        maxAwaitTimeMS: 1000,
      });
      try {
        while (!drainUntil()) {
          const doc = await cursor.tryNext();
          if (doc === null) {
            if (cursor.closed) break;
            continue;
          }
          if (doc.ns !== ns) continue;
          tailed.push(tsKey(doc.ts));
          tailedIds.push(doc._id.toHexString());
          from = doc.ts;
        }
      } catch {
        /* reopened below */
      } finally {
        await cursor.close().catch(() => undefined);
      }
      reopens += 1;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let drainDeadline = Infinity;

  const poller = (async () => {
    while (!(stop && Date.now() > drainDeadline)) {
      const t0 = Date.now();
      // Recent entries only cross the wire; the server still reads the whole (small, fresh) oplog.
      const docs = await oplog.find({ ns }, { sort: { $natural: -1 }, batchSize: 1000 }).toArray();
      const seenAt = Date.now();
      rounds += 1;
      roundTotal += seenAt - t0;
      let roundMax = maxSeenKey;
      for (const d of docs) {
        const id = d._id.toHexString();
        if (firstSeen.has(id)) continue;
        const key = tsKey(d.ts);
        firstSeen.set(id, seenAt);
        tsOf.set(id, { key, t: d.ts.high, wall: d.wall.getTime() });
        if (key < maxSeenKey) {
          holes += 1;
          holeIds.add(id);
        }
        roundMax = Math.max(roundMax, key);
      }
      maxSeenKey = roundMax;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const writing = writers.map(async (c, w) => {
    const coll = c.db(DB).collection('race');
    const until = Date.now() + RACE_S * 1000;
    let i = 0;
    while (Date.now() < until) {
      await coll.insertOne({ w, i: i++, pad: 'y'.repeat(200) });
      written += 1;
    }
  });
  // One bulk writer beside the single-document writers, as an initial load or a batch job would be.
  writing.push(
    (async () => {
      const c = await new MongoClient(uri).connect();
      const coll = c.db(DB).collection('race');
      const until = Date.now() + RACE_S * 1000;
      let i = 0;
      while (Date.now() < until) {
        await coll.insertMany(Array.from({ length: 100 }, () => ({ w: -1, i: i++, pad: 'z'.repeat(200) })));
        written += 100;
        await new Promise((r) => setTimeout(r, 200));
      }
      await c.close();
    })(),
  );
  await Promise.all(writing);
  stop = true;
  drainDeadline = Date.now() + 3000;
  await Promise.all([tailer, poller]);
  await Promise.all(writers.map((c) => c.close()));

  // Stored order: natural order of the whole oplog, neighbours compared by ts.
  let storedInversions = 0;
  let prev = -1;
  const all = new Map<string, number>();
  const walls = new Map<string, number>();
  for await (const d of oplog.find({ ns })) {
    const k = tsKey(d.ts);
    if (k < prev) storedInversions += 1;
    prev = k;
    all.set(d._id.toHexString(), k);
    walls.set(d._id.toHexString(), d.wall.getTime());
  }
  await admin.close();
  const seenTail = new Set<string>();
  let duplicates = 0;
  for (const id of tailedIds) {
    if (seenTail.has(id)) duplicates += 1;
    seenTail.add(id);
  }
  let outOfOrder = 0;
  for (let i = 1; i < tailed.length; i++) if (tailed[i]! < tailed[i - 1]!) outOfOrder += 1;
  let missing = 0;
  for (const id of all.keys()) if (!seenTail.has(id)) missing += 1;
  let maxVisible = 0;
  let needed = -Infinity;
  let holeDelay = -Infinity;
  for (const [id, seen] of firstSeen) {
    const t = tsOf.get(id)!;
    maxVisible = Math.max(maxVisible, seen - t.wall);
    needed = Math.max(needed, seen - (t.t + 1) * 1000);
    if (holeIds.has(id)) holeDelay = Math.max(holeDelay, seen - (t.t + 1) * 1000);
  }
  return {
    written,
    entries: [...all.entries()].map(([id, key]) => ({
      id,
      key,
      t: Math.floor(key / 2 ** 32),
      wall: walls.get(id)!,
    })),
    storedInversions,
    tailable: { delivered: tailed.length, missing, duplicates, outOfOrder, reopens },
    poll: {
      rounds,
      roundMs: rounds ? roundTotal / rounds : NaN,
      holes,
      maxVisibleAfterWriteMs: maxVisible,
      neededDelayMs: needed,
      holeDelayMs: holeDelay,
    },
  };
}

/**
 * When each race entry became visible on PostgreSQL: its row's commit time, read with psql from the table FerretDB
 * keeps `local.oplog.rs` in (the `_id` of an oplog entry is an ObjectId, stored as its hex string).
 */
async function commitTimes(pgUrl: string, entries: RaceEntry[]): Promise<NonNullable<RaceResult['commits']>> {
  const u = new URL(pgUrl);
  const psql = (sql: string) =>
    execFileSync(
      path.join(postgresBinDir(), 'psql'),
      ['-h', u.hostname, '-p', u.port, '-U', u.username, '-d', u.pathname.slice(1), '-tAF', '\t', '-c', sql],
      { maxBuffer: 256 * 1024 * 1024 },
    ).toString();
  const table = psql(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'local' AND tablename LIKE 'oplog%' LIMIT 1",
  ).trim();
  const commit = new Map<string, number>();
  for (const line of psql(
    `SELECT _jsonb->>'_id', (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::bigint FROM local."${table}"`,
  ).split('\n')) {
    const [id, ms] = line.split('\t');
    if (id && ms) commit.set(id, Number(ms));
  }
  const rows = entries.filter((e) => commit.has(e.id)).sort((a, b) => a.key - b.key);
  let holes = 0;
  let holeDelay = -Infinity;
  let maxAfterWall = 0;
  let laterMin = Infinity; // the earliest commit among entries with a later ts
  for (let k = rows.length - 1; k >= 0; k--) {
    const e = rows[k]!;
    const c = commit.get(e.id)!;
    maxAfterWall = Math.max(maxAfterWall, c - e.wall);
    if (c > laterMin) {
      holes += 1;
      holeDelay = Math.max(holeDelay, c - (e.t + 1) * 1000);
    }
    laterMin = Math.min(laterMin, c);
  }
  return { rows: rows.length, holes, maxCommitAfterWallMs: maxAfterWall, holeDelayMs: holeDelay };
}

async function oplogReads(uri: string, r: BackendResult): Promise<void> {
  const client = await new MongoClient(uri).connect();
  try {
    const coll = client.db(DB).collection('oplogload');
    const t0 = now();
    for (let n = 0; n < OPLOG_ENTRIES; n += 1000) {
      const docs: Document[] = [];
      for (let k = n; k < Math.min(OPLOG_ENTRIES, n + 1000); k++) {
        const { _id, ...doc } = docFor('objectid', k);
        docs.push(doc);
      }
      await coll.insertMany(docs);
    }
    r.insertWithOplogDocsPerS = OPLOG_ENTRIES / (ms(t0) / 1000);
    const oplog = client.db('local').collection<{ ts: Timestamp }>('oplog.rs');
    const entries = await oplog.countDocuments({});
    const times = async (f: () => Promise<unknown>, k = 5) => {
      const xs: number[] = [];
      for (let i = 0; i < k; i++) {
        const t = now();
        await f();
        xs.push(ms(t));
      }
      return median(xs);
    };
    // The agent's queries (libs/source: oplog-bounds.ts, OplogTail.recentEntries).
    const newestMs = await times(() =>
      oplog.find({}, { projection: { ts: 1 }, limit: 1, sort: { $natural: -1 } }).next(),
    );
    const oldestMs = await times(() => oplog.find({}, { projection: { ts: 1 }, limit: 1 }).next());
    const tail = await oplog
      .find({}, { sort: { $natural: -1 }, skip: 1000, limit: 1, projection: { ts: 1 } })
      .next();
    const from = tail!.ts;
    let pollRoundEntries = 0;
    const pollRoundMs = await times(async () => {
      pollRoundEntries = 0;
      const cursor = oplog.find({}, { sort: { $natural: -1 }, raw: true, batchSize: 1000 });
      for await (const raw of cursor) {
        pollRoundEntries += 1;
        const ts = BSON.deserialize(raw as unknown as Uint8Array, { promoteValues: false })[
          'ts'
        ] as Timestamp;
        if (ts.high + 30 < from.high) break;
      }
      await cursor.close();
    }, 3);
    let rangeEntries = 0;
    const rangeMs = await times(async () => {
      rangeEntries = (await oplog.find({ ts: { $gte: from } }, { sort: { ts: 1 } }).toArray()).length;
    }, 3);
    r.oplog = { entries, newestMs, oldestMs, pollRoundMs, pollRoundEntries, rangeMs, rangeEntries };
    log(`${r.backend} oplog reads over ${entries} entries: ${JSON.stringify(r.oplog)}`);
  } finally {
    await client.close();
  }
}

interface Gated {
  uri: string;
  release: () => void;
  server: Promise<ScratchFerretdb>;
}

/** A scratch FerretDB held before its oplog exists until `release()`; `server` resolves once the oplog is there. */
function startGated(backend: FerretdbBackend): Promise<Gated> {
  return new Promise((resolve, reject) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server: Promise<ScratchFerretdb> = startScratchFerretdb({
      name: `standin-${backend}`,
      backend,
      oplogBytes: 256 * 1024 * 1024,
      beforeOplog: async (uri) => {
        resolve({ uri, release, server });
        await gate;
      },
    });
    server.catch(reject);
  });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const results: BackendResult[] = BACKENDS.map(
    (backend) => ({ backend, idOps: [] }) as unknown as BackendResult,
  );
  const gated: Gated[] = [];
  const stopAll = async () => {
    for (const g of gated) {
      g.release();
      await (await g.server.catch(() => undefined))?.stop();
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping the benchmark's servers`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  try {
    for (const b of BACKENDS) {
      log(`${b}: starting a FerretDB of the benchmark's own`);
      gated.push(await startGated(b));
    }
    if (PHASES.has('idops')) await measureIdOps(gated.map((g, i) => ({ uri: g.uri, r: results[i]! })));
    for (const g of gated) g.release();
    const servers = await Promise.all(gated.map((g) => g.server));
    for (const [i, server] of servers.entries()) {
      const r = results[i]!;
      if (!PHASES.has('race')) continue;
      r.race = await race(server.uri);
      if (server.postgresqlUrl)
        r.race.commits = await commitTimes(server.postgresqlUrl, r.race.entries ?? []);
      delete r.race.entries;
      log(`${r.backend} race: ${JSON.stringify(r.race)}`);
    }
    if (PHASES.has('oplog')) {
      for (const [i, server] of servers.entries()) await oplogReads(server.uri, results[i]!);
    }
  } finally {
    await stopAll();
  }
  const f = (x: number | undefined, d = 1) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows: string[][] = [['figure', ...results.map((r) => r.backend)]];
  const row = (label: string, cell: (r: BackendResult) => string) => rows.push([label, ...results.map(cell)]);
  if (PHASES.has('idops')) {
    for (const size of SIZES) {
      for (const kind of KINDS) {
        const op = (r: BackendResult) => r.idOps.find((o) => o.size === size && o.kind === kind);
        row(`updateOne by ${kind} _id @ ${size} docs, ms (median)`, (r) => f(op(r)?.updateMs));
        row(`deleteOne by ${kind} _id @ ${size} docs, ms (median)`, (r) => f(op(r)?.deleteMs));
      }
    }
    row('insert, no oplog (insertMany of 1000), docs/s', (r) => f(r.insertDocsPerS, 0));
    row(
      `raw scan of ${results[0]?.scan.docs ?? 0} ${KINDS[0]} documents, median of ${SCANS}, docs/s (MB/s)`,
      (r) => `${f(r.scan.docs / (r.scan.ms / 1000), 0)} (${f(r.scan.mb / (r.scan.ms / 1000), 2)})`,
    );
  }
  if (PHASES.has('oplog')) {
    row('insert, oplog on (insertMany of 1000), docs/s', (r) => f(r.insertWithOplogDocsPerS, 0));
    row('oplog entries held for the reads', (r) => String(r.oplog.entries));
    row('newest oplog entry (agent), ms', (r) => f(r.oplog.newestMs));
    row('oldest oplog entry (agent), ms', (r) => f(r.oplog.oldestMs));
    row(
      'agent poll round back to a position 1,000 entries old (+30 s), ms (entries read)',
      (r) => `${f(r.oplog.pollRoundMs, 0)} (${r.oplog.pollRoundEntries})`,
    );
    row(
      '{ts: {$gte: position}} sorted by ts, ms (entries)',
      (r) => `${f(r.oplog.rangeMs, 0)} (${r.oplog.rangeEntries})`,
    );
  }
  if (PHASES.has('race')) {
    row(`race: entries written by ${WRITERS} single + 1 bulk writers in ${RACE_S} s`, (r) =>
      String(r.race.written),
    );
    row('race: stored out of ts order (natural-order inversions)', (r) => String(r.race.storedInversions));
    row('race: tailable cursor delivered / missing / duplicates / out of order / reopens', (r) => {
      const t = r.race.tailable;
      return `${t.delivered} / ${t.missing} / ${t.duplicates} / ${t.outOfOrder} / ${t.reopens}`;
    });
    row(
      'race: poll rounds (mean ms) / entries seen after a later one',
      (r) => `${r.race.poll.rounds} (${f(r.race.poll.roundMs, 0)}) / ${r.race.poll.holes}`,
    );
    row('race: max first-visible - write wall time, ms', (r) => f(r.race.poll.maxVisibleAfterWriteMs, 0));
    row('race: max first-visible - end of its ts second, ms', (r) => f(r.race.poll.neededDelayMs, 0));
    row('race: the same over entries seen after a later one, ms', (r) => f(r.race.poll.holeDelayMs, 0));
    row('race (commit times): rows / committed after a later-ts entry', (r) =>
      r.race.commits ? `${r.race.commits.rows} / ${r.race.commits.holes}` : 'n/a',
    );
    row('race (commit times): max commit - wall time, ms', (r) => f(r.race.commits?.maxCommitAfterWallMs, 0));
    row('race (commit times): max over those committed late: commit - end of ts second, ms', (r) =>
      f(r.race.commits?.holeDelayMs, 0),
    );
  }
  console.log(table(rows));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
