/**
 * `npm run bench`: figures for the initial sync and continuous backup over the real servers (not a test; it
 * prints numbers). Needs the servers (`npx tidemark infra up`). Measures, in one run on one source:
 *  1. a plain driver scan of the source (raw BSON, all documents): MB/s and docs/s, the baseline;
 *  2. Tidemark's initial sync of the same data: transfer (agent scan -> Kafka -> oplog store) and until the job
 *     is active, as MB/s and docs/s;
 *  3. capture-to-applied lag at a steady write rate: p50/p99 of the time from a source write until the document
 *     is in the head database;
 *  4. apply rate: a burst of inserts, entries per second until applied;
 *  5. peak memory (VmHWM) of each service process.
 * Sizes: BENCH_DOCS (default 100000), BENCH_LAG_PROBES (default 40), BENCH_BURST (default 3000).
 */
import * as fs from 'node:fs';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { seedSource, ServiceStack, SERVICE_NAMES } from '@tidemark/testing';

const DOCS = Number(process.env['BENCH_DOCS'] ?? 100_000);
const PROBES = Number(process.env['BENCH_LAG_PROBES'] ?? 40);
const BURST = Number(process.env['BENCH_BURST'] ?? 3000);

const s = `${Date.now().toString(36).slice(-6)}`;
const db = `bench${s}`;

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

interface Status {
  state: string;
  phase: string | null;
  appliedOpTime: string | null;
  head: { namespaces: Record<string, string> };
}

const pct = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] ?? NaN;
};

async function main(): Promise<void> {
  const e = resolveEndpoints();
  const source = await new MongoClient(e.source.uri).connect();
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
    console.log(`seeding ${DOCS} documents into ${db}...`);
    await seedSource(source, {
      collections: { [`${db}.a`]: Math.floor(DOCS / 2), [`${db}.b`]: DOCS - Math.floor(DOCS / 2) },
    });

    // 1. Baseline: a plain driver scan, raw BSON.
    let bytes = 0;
    let docs = 0;
    const t0 = Date.now();
    for (const c of ['a', 'b']) {
      for await (const raw of source.db(db).collection(c).find({}, { raw: true, batchSize: 1000 })) {
        bytes += (raw as unknown as Uint8Array).length;
        docs += 1;
      }
    }
    const scanMs = Date.now() - t0;
    const mb = bytes / 1e6;

    await stack.startAll();
    const base = stack.apiUrl;
    const job = await api<{ id: string }>(base, 'POST', '/api/v1/jobs', {
      project: 'bench',
      source: { uri: e.source.uri },
      include: [db],
    });
    const t1 = Date.now();
    await api(base, 'POST', `/api/v1/jobs/${job.id}/start`);
    let transferMs = 0;
    let status: Status;
    for (;;) {
      status = await api<Status>(base, 'GET', `/api/v1/jobs/${job.id}/status`);
      if (!transferMs && status.phase && !['starting', 'transferring'].includes(status.phase))
        transferMs = Date.now() - t1;
      if (status.state === 'active') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const activeMs = Date.now() - t1;

    // 3. Capture-to-applied lag at a steady rate (one probe per 250 ms).
    const headNs = status.head.namespaces[`${db}.a`]!;
    const [hdb, ...hc] = headNs.split('.');
    const head = backup.db(hdb!).collection(hc.join('.'));
    const lags: number[] = [];
    for (let k = 0; k < PROBES; k++) {
      const id = `probe-${k}`;
      const w = Date.now();
      await source.db(db).collection<{ _id: string; k: number }>('a').insertOne({ _id: id, k });
      while (!(await head.findOne({ _id: id } as never))) await new Promise((r) => setTimeout(r, 20));
      lags.push(Date.now() - w);
      await new Promise((r) => setTimeout(r, 250));
    }

    // 4. Apply rate: a burst of inserts, then time until the last one is in the head.
    const burst = Array.from({ length: BURST }, (_, k) => ({ _id: `burst-${k}`, k }));
    const tb = Date.now();
    for (let k = 0; k < burst.length; k += 500) {
      await source
        .db(db)
        .collection<{ _id: string; k: number }>('b')
        .insertMany(burst.slice(k, k + 500));
    }
    const written = Date.now();
    const hb = status.head.namespaces[`${db}.b`]!.split('.');
    const headB = backup.db(hb[0]!).collection(hb.slice(1).join('.'));
    while (!(await headB.findOne({ _id: `burst-${BURST - 1}` } as never)))
      await new Promise((r) => setTimeout(r, 50));
    const appliedMs = Date.now() - tb;

    // 5. Peak memory of each service.
    const mem = SERVICE_NAMES.map((n) => {
      const pid = stack.pid(n);
      const hwm = pid
        ? /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
        : undefined;
      return `${n}=${hwm ? (Number(hwm) / 1024).toFixed(0) : '?'}MiB`;
    });

    console.log('\nTidemark pipeline benchmark');
    console.log(`source: ${docs} documents, ${mb.toFixed(1)} MB of raw BSON`);
    console.log(
      `plain driver scan:      ${(mb / (scanMs / 1000)).toFixed(2)} MB/s, ${Math.round(docs / (scanMs / 1000))} docs/s (${scanMs} ms)`,
    );
    console.log(
      `initial sync transfer:  ${(mb / (transferMs / 1000)).toFixed(2)} MB/s, ${Math.round(docs / (transferMs / 1000))} docs/s (${transferMs} ms to the end of transferring)`,
    );
    console.log(
      `initial sync complete:  ${(mb / (activeMs / 1000)).toFixed(2)} MB/s, ${Math.round(docs / (activeMs / 1000))} docs/s (${activeMs} ms until active)`,
    );
    console.log(`transfer / scan rate:   ${((scanMs / transferMs) * 100).toFixed(0)}%`);
    console.log(
      `capture-to-applied lag: p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms (${lags.length} probes, one per 250 ms)`,
    );
    console.log(
      `apply rate:             ${Math.round(BURST / (appliedMs / 1000))} entries/s (${BURST} inserts written in ${written - tb} ms, all applied after ${appliedMs} ms)`,
    );
    console.log(`peak memory (VmHWM):    ${mem.join(' ')}`);
  } finally {
    await stack.stopAll();
    await source.db(db).dropDatabase();
    await source.close();
    await backup.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
