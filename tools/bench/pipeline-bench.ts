/**
 * `npm run bench`: figures for the initial sync and continuous backup over the real servers (not a test; it
 * prints numbers). Needs the servers (`npx tidemark infra up`). Measures, in one run on one source:
 *  1. a plain driver scan of the source (raw BSON, all documents): MB/s and docs/s, the baseline;
 *  2. Tidemark's initial sync of the same data: transfer (agent scan -> Kafka -> oplog store) and until the job
 *     is active, as MB/s and docs/s;
 *  3. capture-to-applied lag at a steady write rate: p50/p99 of the time from a source write until the document
 *     is in the head database; then again at a high rate (BENCH_FAST_RATE writes/s, default 500, for
 *     BENCH_FAST_SECONDS, default 10; up to 32 writes in flight), with the rate the source actually took;
 *  4. apply rate: a burst of inserts, entries per second until applied; then BENCH_UPDATE_BURST (default 100)
 *     updates by _id of documents of the 50,000-document collection, written one by one, until applied;
 *  5. peak memory (VmHWM) of each service process, and the CPU time each service (and the backup-side server) had
 *     used when the transfer ended: where the machine's cores went during the initial sync; and each service's CPU
 *     over BENCH_IDLE_SECONDS (default 10) after it started, before any job: its cost with nothing to do;
 *  6. the initial sync per phase (as job-state's status showed it, polled every BENCH_STATUS_POLL_MS, default 1000
 *     as `tidemark job wait` polls): wall time, and the CPU seconds each process used in it (services, both
 *     FerretDBs and the PostgreSQL under them, Kafka). A phase whose busiest process used far less CPU than its wall
 *     time was waiting (on a poll, a delay, a lock), not computing.
 * Sizes: BENCH_DOCS (default 100000), BENCH_LAG_PROBES (default 100) written every BENCH_PROBE_INTERVAL_MS
 * (default 200), BENCH_BURST (default 3000).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { MongoClient } from 'mongodb';
import { readInfraState, resolveEndpoints } from '@tidemark/config';
import {
  apiCall,
  ensureProject,
  ensureTestCredentials,
  loadedTestSource,
  seedSource,
  ServiceStack,
  SERVICE_NAMES,
} from '@tidemark/testing';
import { cpuSeconds } from './bench-support';

const DOCS = Number(process.env['BENCH_DOCS'] ?? 100_000);
const PROBES = Number(process.env['BENCH_LAG_PROBES'] ?? 100);
const PROBE_INTERVAL = Number(process.env['BENCH_PROBE_INTERVAL_MS'] ?? 200);
const BURST = Number(process.env['BENCH_BURST'] ?? 3000);
const UPDATE_BURST = Number(process.env['BENCH_UPDATE_BURST'] ?? 100);
const FAST_RATE = Number(process.env['BENCH_FAST_RATE'] ?? 500);
const FAST_SECONDS = Number(process.env['BENCH_FAST_SECONDS'] ?? 10);
const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 10);
// How often the job's status is read during the initial sync: what a user's `tidemark job wait` does (its default
// --interval is 1 s). Each read costs job-state and the backup server CPU that the sync competes for.
const STATUS_POLL_MS = Number(process.env['BENCH_STATUS_POLL_MS'] ?? 1000);

const s = `${Date.now().toString(36).slice(-6)}`;
const db = `bench${s}`;

// The services get a random admin key and service token for this run; the API calls send the admin key.
ensureTestCredentials();

function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  return apiCall<T>(method, `${base}${path}`, body);
}

interface Status {
  state: string;
  phase: string | null;
  appliedOpTime: string | null;
  head: { namespaces: Record<string, string> };
}

/** A phase as first seen in the job's status: when, and each watched process's CPU seconds so far. */
interface PhaseMark {
  phase: string;
  at: number;
  cpu: Record<string, number | undefined>;
}

/** The processes whose CPU the phase breakdown follows, by name. */
function watchedProcesses(
  stack: ServiceStack,
  sourcePids: Readonly<Record<string, number>>,
): Record<string, number | undefined> {
  const infra = readInfraState()?.processes ?? [];
  const infraPid = (name: string) => infra.find((p) => p.name === name)?.pid;
  return {
    ...Object.fromEntries(SERVICE_NAMES.map((n) => [n, stack.pid(n)])),
    ...Object.fromEntries(Object.entries(sourcePids).map(([k, v]) => [`source-${k}`, v])),
    'backup-ferretdb': infraPid('ferretdb-backup'),
    ...(infraPid('postgresql-backup') ? { 'backup-postgresql': infraPid('postgresql-backup') } : {}),
    kafka: infraPid('kafka'),
  };
}

/** CPU seconds of each process and its descendants (a PostgreSQL's work is done by its postmaster's children). */
function cpuOf(pids: Record<string, number | undefined>): Record<string, number | undefined> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = (pid: number): number =>
    (cpuSeconds(pid, true) ?? 0) + (children.get(pid) ?? []).reduce((sum, c) => sum + tree(c), 0);
  return Object.fromEntries(
    Object.entries(pids).map(([n, pid]) => [n, pid === undefined ? undefined : tree(pid)]),
  );
}

/** Per phase: wall seconds, then the CPU seconds of every process that used at least 0.5 s in it, busiest first. */
function printPhaseBreakdown(timeline: PhaseMark[]): void {
  console.log('initial sync by phase (wall; CPU seconds per process, busiest first):');
  for (let k = 0; k + 1 < timeline.length; k++) {
    const [from, to] = [timeline[k]!, timeline[k + 1]!];
    const used = Object.keys(to.cpu)
      .map((n) => [n, (to.cpu[n] ?? NaN) - (from.cpu[n] ?? NaN)] as const)
      .filter(([, c]) => c >= 0.5)
      .sort((a, b) => b[1] - a[1]);
    const total = used.reduce((sum, [, c]) => sum + c, 0);
    const wall = (to.at - from.at) / 1000;
    console.log(
      `  ${from.phase.padEnd(28)} ${wall.toFixed(1).padStart(6)} s wall, ${total.toFixed(1)} s CPU` +
        ` (${((total / wall / os.availableParallelism()) * 100).toFixed(0)}% of ${os.availableParallelism()} cores): ${used.map(([n, c]) => `${n} ${c.toFixed(1)}`).join(', ')}`,
    );
  }
}

const pct = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] ?? NaN;
};

async function main(): Promise<void> {
  const e = resolveEndpoints();
  console.log(`seeding ${DOCS} documents into ${db}...`);
  // A source of the benchmark's own (see loadedTestSource): the data is loaded before its oplog exists.
  const loaded = await loadedTestSource({
    name: 'bench',
    oplogBytes: 16 * 1024 * 1024,
    load: (client) =>
      seedSource(client, {
        collections: {
          [`${db}.a`]: Math.floor(DOCS / 2),
          [`${db}.b`]: DOCS - Math.floor(DOCS / 2),
          // Probes go to a small collection of their own, so finding one in the head is cheap even where the
          // server finds a document by _id with a scan (FerretDB on SQLite).
          [`${db}.probe`]: 1,
        },
      }),
  });
  const source = loaded.client;
  const backup = await new MongoClient(e.backup.uri).connect();
  const stack = new ServiceStack(
    {
      TIDEMARK_TOPIC_PREFIX: `bench-${s}`,
      TIDEMARK_META_DB: `bench_meta_${s}`,
      TIDEMARK_OPLOG_STORE_DB: `bench_os_${s}`,
    },
    `bench-${s}`,
  );
  try {
    // 1. Baseline: a plain driver scan, raw BSON, one collection after the other; then both at once, as the
    // agent scans them (TIDEMARK_AGENT_SCAN_CONCURRENCY, default 2). With the source server's CPU for each.
    const scanOne = async (c: string): Promise<{ bytes: number; docs: number }> => {
      const n = { bytes: 0, docs: 0 };
      for await (const raw of source.db(db).collection(c).find({}, { raw: true, batchSize: 1000 })) {
        n.bytes += (raw as unknown as Uint8Array).length;
        n.docs += 1;
      }
      return n;
    };
    const sourceCpu = (): number =>
      Object.values(cpuOf(loaded.pids)).reduce<number>((a, c) => a + (c ?? 0), 0);
    const cpu0 = sourceCpu();
    const t0 = Date.now();
    let bytes = 0;
    let docs = 0;
    for (const c of ['a', 'b']) {
      const n = await scanOne(c);
      bytes += n.bytes;
      docs += n.docs;
    }
    const scanMs = Date.now() - t0;
    const scanCpu = sourceCpu() - cpu0;
    const mb = bytes / 1e6;
    const cpu1 = sourceCpu();
    const tp = Date.now();
    await Promise.all(['a', 'b'].map(scanOne));
    const parallelScanMs = Date.now() - tp;
    const parallelScanCpu = sourceCpu() - cpu1;

    console.log(`plain driver scan: ${docs} documents in ${scanMs} ms; starting the services...`);
    await stack.startAll();
    // The services' own cost with nothing to do (timers, heartbeats, consumers waiting on empty topics): what each
    // takes from the cores of a busy machine all the time.
    const idleCpu0 = SERVICE_NAMES.map((n) => cpuSeconds(stack.pid(n)) ?? 0);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpu = SERVICE_NAMES.map(
      (n, k) => `${n}=${((cpuSeconds(stack.pid(n)) ?? 0) - idleCpu0[k]!).toFixed(2)}s`,
    );
    const base = stack.apiUrl;
    await ensureProject(base, 'bench');
    const job = await api<{ id: string }>(base, 'POST', '/api/v1/jobs', {
      project: 'bench',
      source: { uri: loaded.uri },
      include: [db],
    });
    const watched = watchedProcesses(stack, loaded.pids);
    const timeline: PhaseMark[] = [];
    const t1 = Date.now();
    timeline.push({ phase: 'job start', at: t1, cpu: cpuOf(watched) });
    await api(base, 'POST', `/api/v1/jobs/${job.id}/start`);
    let transferMs = 0;
    let cpuAtTransfer: string[] = [];
    let status: Status;
    for (;;) {
      status = await api<Status>(base, 'GET', `/api/v1/jobs/${job.id}/status`);
      const seen = status.state === 'active' ? 'active' : (status.phase ?? status.state);
      if (timeline[timeline.length - 1]!.phase !== seen) {
        timeline.push({ phase: seen, at: Date.now(), cpu: cpuOf(watched) });
      }
      if (!transferMs && status.phase && !['starting', 'transferring'].includes(status.phase)) {
        transferMs = Date.now() - t1;
        const backupPid = readInfraState()?.processes.find((p) => p.name === 'ferretdb-backup')?.pid;
        cpuAtTransfer = [
          ...SERVICE_NAMES.map((n) => `${n}=${cpuSeconds(stack.pid(n))?.toFixed(1) ?? '?'}s`),
          `backup-ferretdb=${cpuSeconds(backupPid)?.toFixed(1) ?? '?'}s (since it started)`,
        ];
      }
      if (status.state === 'active') break;
      await new Promise((r) => setTimeout(r, STATUS_POLL_MS));
    }
    const activeMs = Date.now() - t1;
    console.log(`job ${job.id} active after ${activeMs} ms; measuring lag with ${PROBES} probes...`);

    // 3. Capture-to-applied lag at a steady write rate: a writer inserts one probe every PROBE_INTERVAL ms, not
    // waiting for anything; a watcher finds each probe in the head, in order (entries are applied in oplog order),
    // and records the time from the acknowledged write to its first sighting in the head.
    const headNs = status.head.namespaces[`${db}.probe`]!;
    const [hdb, ...hc] = headNs.split('.');
    const head = backup.db(hdb!).collection(hc.join('.'));
    const writtenAt: number[] = [];
    const writer = (async () => {
      for (let k = 0; k < PROBES; k++) {
        const next = Date.now() + PROBE_INTERVAL;
        await source
          .db(db)
          .collection<{ _id: string; k: number }>('probe')
          .insertOne({ _id: `probe-${k}`, k });
        writtenAt[k] = Date.now();
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    })();
    const lags: number[] = [];
    for (let k = 0; k < PROBES;) {
      if (writtenAt[k] !== undefined && (await head.findOne({ _id: `probe-${k}` } as never))) {
        lags.push(Date.now() - writtenAt[k]!);
        k += 1;
      } else {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await writer;

    // 3b. The same at a high rate: a write is started every 1000/FAST_RATE ms (at most 32 in flight, so a slower
    // source sets the rate: reported as the rate it took); a watcher reads the probes present in the head every
    // 50 ms and records, for each new one, the time since its write was acknowledged.
    console.log(`lag probes done; ${FAST_RATE} writes/s for ${FAST_SECONDS} s...`);
    const fastTotal = Math.round(FAST_RATE * FAST_SECONDS);
    const fastAcked = new Map<string, number>();
    const probes = source.db(db).collection<{ _id: string; k: number }>('probe');
    const tf = Date.now();
    const fastWriter = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let k = 0; k < fastTotal; k++) {
        const due = tf + (k * 1000) / FAST_RATE;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        if (inFlight.size >= 32) await Promise.race(inFlight);
        const id = `fast-${k}`;
        const w: Promise<void> = probes.insertOne({ _id: id, k }).then(() => {
          fastAcked.set(id, Date.now());
          inFlight.delete(w);
        });
        inFlight.add(w);
      }
      await Promise.all(inFlight);
    })();
    const fastLags: number[] = [];
    const seenFast = new Set<string>();
    let fastWrittenMs = 0;
    void fastWriter.then(() => (fastWrittenMs = Date.now() - tf));
    while (seenFast.size < fastTotal) {
      if (Date.now() - tf > 30 * 60_000) throw new Error('fast probes not applied after 30 min');
      const present = await head.find({}, { projection: { _id: 1 } }).toArray();
      const now = Date.now();
      for (const d of present) {
        const id = String(d['_id']);
        const acked = fastAcked.get(id);
        if (acked === undefined || seenFast.has(id)) continue;
        seenFast.add(id);
        fastLags.push(now - acked);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await fastWriter;
    console.log(`fast probes done; writing a burst of ${BURST} inserts, then ${UPDATE_BURST} updates...`);

    // 4. Apply rate: a burst of inserts into a large collection, then the time until the job's applied position
    // reaches the source's newest entry (read once the burst is written).
    const burst = Array.from({ length: BURST }, (_, k) => ({ _id: `burst-${k}`, k }));
    const tb = Date.now();
    for (let k = 0; k < burst.length; k += 500) {
      await source
        .db(db)
        .collection<{ _id: string; k: number }>('b')
        .insertMany(burst.slice(k, k + 500));
    }
    const written = Date.now();
    const newest = await source
      .db('local')
      .collection<{ ts: { t: number; i: number } }>('oplog.rs')
      .find({}, { sort: { $natural: -1 }, limit: 1 })
      .next();
    const target = newest ? `${newest.ts.t}:${newest.ts.i}` : '0:0';
    const reached = (applied: string | null): boolean => {
      if (applied === null) return false;
      const [t, i] = applied.split(':').map(Number) as [number, number];
      return t > newest!.ts.t || (t === newest!.ts.t && i >= newest!.ts.i);
    };
    for (;;) {
      const st = await api<Status>(base, 'GET', `/api/v1/jobs/${job.id}/status`);
      if (reached(st.appliedOpTime)) break;
      if (Date.now() - tb > 30 * 60_000) throw new Error(`burst not applied after 30 min (target ${target})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const appliedMs = Date.now() - tb;

    // 4b. Update apply rate: updates by _id of documents of the large collection (the applier finds each by _id
    // in the head; FerretDB on SQLite scans the collection for it, on PostgreSQL it uses the _id index).
    const ids = (
      await source
        .db(db)
        .collection('a')
        .find({}, { projection: { _id: 1 }, limit: UPDATE_BURST })
        .toArray()
    ).map((d) => d['_id'] as unknown);
    const tu = Date.now();
    for (const [k, id] of ids.entries()) {
      await source
        .db(db)
        .collection('a')
        .updateOne({ _id: id as never }, { $set: { touched: k } });
    }
    const updatesWritten = Date.now();
    const newestU = (await source
      .db('local')
      .collection<{ ts: { t: number; i: number } }>('oplog.rs')
      .find({}, { sort: { $natural: -1 }, limit: 1 })
      .next())!;
    for (;;) {
      const st = await api<Status>(base, 'GET', `/api/v1/jobs/${job.id}/status`);
      if (st.appliedOpTime !== null) {
        const [t, i] = st.appliedOpTime.split(':').map(Number) as [number, number];
        if (t > newestU.ts.t || (t === newestU.ts.t && i >= newestU.ts.i)) break;
      }
      if (Date.now() - tu > 30 * 60_000) throw new Error('update burst not applied after 30 min');
      await new Promise((r) => setTimeout(r, 100));
    }
    const updatesAppliedMs = Date.now() - tu;

    // 5. Peak memory of each service.
    const mem = SERVICE_NAMES.map((n) => {
      const pid = stack.pid(n);
      const hwm = pid
        ? /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
        : undefined;
      return `${n}=${hwm ? (Number(hwm) / 1024).toFixed(0) : '?'}MiB`;
    });

    console.log('\nTidemark pipeline benchmark');
    console.log(`source: ${docs} documents, ${mb.toFixed(1)} MB of raw BSON (${loaded.uri})`);
    console.log(
      `plain driver scan:      ${(mb / (scanMs / 1000)).toFixed(2)} MB/s, ${Math.round(docs / (scanMs / 1000))} docs/s (${scanMs} ms)`,
    );
    console.log(
      `source server CPU:      ${scanCpu.toFixed(1)} s for the plain scan; both collections at once: ${parallelScanMs} ms, ${parallelScanCpu.toFixed(1)} s CPU`,
    );
    console.log(
      `initial sync transfer:  ${(mb / (transferMs / 1000)).toFixed(2)} MB/s, ${Math.round(docs / (transferMs / 1000))} docs/s (${transferMs} ms to the end of transferring)`,
    );
    console.log(
      `initial sync complete:  ${(mb / (activeMs / 1000)).toFixed(2)} MB/s, ${Math.round(docs / (activeMs / 1000))} docs/s (${activeMs} ms until active)`,
    );
    console.log(`transfer / scan rate:   ${((scanMs / transferMs) * 100).toFixed(0)}%`);
    console.log(
      `capture-to-applied lag: p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms (${lags.length} probes written one per ${PROBE_INTERVAL} ms)`,
    );
    console.log(
      `lag at a high rate:     p50 ${pct(fastLags, 50)} ms, p99 ${pct(fastLags, 99)} ms (${fastTotal} probes asked at ${FAST_RATE}/s, written in ${fastWrittenMs} ms: ${Math.round(fastTotal / (fastWrittenMs / 1000))} writes/s taken)`,
    );
    console.log(
      `apply rate:             ${Math.round(BURST / (appliedMs / 1000))} entries/s (${BURST} inserts written in ${written - tb} ms, all applied after ${appliedMs} ms)`,
    );
    console.log(
      `update apply rate:      ${(ids.length / (updatesAppliedMs / 1000)).toFixed(1)} entries/s (${ids.length} updates by _id written in ${updatesWritten - tu} ms, all applied after ${updatesAppliedMs} ms)`,
    );
    console.log(`peak memory (VmHWM):    ${mem.join(' ')}`);
    console.log(`CPU at end of transfer: ${cpuAtTransfer.join(' ')}`);
    console.log(`CPU idle, ${IDLE_SECONDS} s, no job:  ${idleCpu.join(' ')}`);
    printPhaseBreakdown(timeline);
  } finally {
    await stack.stopAll();
    await source.db(db).dropDatabase();
    await loaded.stop();
    await backup.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
