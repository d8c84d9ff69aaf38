/**
 * `npm run bench:scaling`: the same multi-job workload with one and with two replicas of the busiest stage, in one
 * run, side by side (not a test; it prints figures). Needs the servers (`npx tidemark infra up`).
 *
 * One source of the benchmark's own holds BENCH_SCALING_JOBS (default 8) databases of BENCH_SCALING_DOCS (default
 * 10000) documents each; each round starts a fresh stack (its own topics and databases) with every service once and
 * BENCH_SCALING_REPLICAS (default 2) processes of BENCH_SCALING_STAGE (default head-builder, the busiest in
 * `npm run bench`) in the second round, creates one job per database, starts them all, and times `job start` of the
 * first until every job is `active` (the status read every second, as `tidemark job wait` does). It prints the
 * wall time, documents per second, the CPU seconds of the scaled stage's processes and how busy the machine's cores
 * were, so what bounds the gain is visible: on a machine whose cores the sync already keeps busy, a second replica
 * adds work it cannot get CPU for.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  apiCall,
  ensureProject,
  ensureTestCredentials,
  loadedTestSource,
  seedSource,
  ServiceStack,
  type StackService,
} from '@tidemark/testing';
import { cpuSeconds } from './bench-support';

const JOBS = Number(process.env['BENCH_SCALING_JOBS'] ?? 8);
const DOCS = Number(process.env['BENCH_SCALING_DOCS'] ?? 10_000);
const STAGE = (process.env['BENCH_SCALING_STAGE'] ?? 'head-builder') as StackService;
const REPLICAS = Number(process.env['BENCH_SCALING_REPLICAS'] ?? 2);

ensureTestCredentials();

/** Busy and total jiffies of the whole machine so far (`/proc/stat`, first line). */
function machineTicks(): { busy: number; total: number } {
  const fields = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

interface Round {
  replicas: number;
  wallMs: number;
  stageCpu: number;
  /** Share of all cores busy (any process) while the jobs synced. */
  busy: number;
}

async function round(sourceUri: string, dbs: string[], replicas: number): Promise<Round> {
  const s = `${Date.now().toString(36).slice(-6)}`;
  const env = {
    TIDEMARK_TOPIC_PREFIX: `bench-scale-${s}`,
    TIDEMARK_META_DB: `bench_meta_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `bench_os_${s}`,
  };
  const main = new ServiceStack(env, `bench-scale-${s}`);
  const extra: ServiceStack[] = [];
  try {
    await main.startAll();
    for (let k = 1; k < replicas; k++) {
      const stack = new ServiceStack({ ...env, TIDEMARK_API_URL: main.apiUrl }, `bench-scale-${s}-r${k}`);
      extra.push(stack);
      await stack.start(STAGE);
    }
    const base = main.apiUrl;
    await ensureProject(base, 'bench');
    const jobs: string[] = [];
    for (const db of dbs) {
      const job = await apiCall<{ id: string }>('POST', `${base}/api/v1/jobs`, {
        project: 'bench',
        source: { uri: sourceUri },
        include: [db],
      });
      jobs.push(job.id);
    }
    const pids = [main, ...extra].map((st) => st.pid(STAGE));
    const cpu0 = pids.reduce<number>((a, p) => a + (cpuSeconds(p) ?? 0), 0);
    const ticks0 = machineTicks();
    const t0 = Date.now();
    for (const id of jobs) await apiCall('POST', `${base}/api/v1/jobs/${id}/start`);
    for (;;) {
      const states = await Promise.all(
        jobs.map((id) => apiCall<{ state: string }>('GET', `${base}/api/v1/jobs/${id}/status`)),
      );
      if (states.every((st) => st.state === 'active')) break;
      if (Date.now() - t0 > 30 * 60_000) throw new Error('the jobs were not all active after 30 minutes');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const wallMs = Date.now() - t0;
    const ticks1 = machineTicks();
    return {
      replicas,
      wallMs,
      stageCpu: pids.reduce<number>((a, p) => a + (cpuSeconds(p) ?? 0), 0) - cpu0,
      busy: (ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total),
    };
  } finally {
    for (const st of extra) await st.stopAll();
    await main.stopAll();
  }
}

async function main(): Promise<void> {
  const s = `${Date.now().toString(36).slice(-6)}`;
  const dbs = Array.from({ length: JOBS }, (_, k) => `benchscale${s}_${k}`);
  console.log(`seeding ${JOBS} databases of ${DOCS} documents...`);
  const source = await loadedTestSource({
    name: 'bench-scale',
    oplogBytes: 64 * 1024 * 1024,
    load: (client) =>
      seedSource(client, { collections: Object.fromEntries(dbs.map((db) => [`${db}.items`, DOCS])) }),
  });
  try {
    const rounds: Round[] = [];
    for (const replicas of [1, REPLICAS]) {
      console.log(`round: ${replicas} ${STAGE} process(es)...`);
      rounds.push(await round(source.uri, dbs, replicas));
    }
    console.log(`\nTidemark scaling benchmark: ${JOBS} jobs of ${DOCS} documents, started at once`);
    for (const r of rounds) {
      console.log(
        `${String(r.replicas).padStart(2)} ${STAGE}: all active after ${(r.wallMs / 1000).toFixed(1)} s, ` +
          `${Math.round((JOBS * DOCS) / (r.wallMs / 1000))} docs/s; ${STAGE} CPU ${r.stageCpu.toFixed(1)} s in all; ` +
          `machine ${Math.round(r.busy * 100)}% busy on ${os.cpus().length} cores`,
      );
    }
    const [one, more] = rounds;
    console.log(`speed-up with ${REPLICAS}: ${(one!.wallMs / more!.wallMs).toFixed(2)}x`);
  } finally {
    for (const db of dbs) await source.client.db(db).dropDatabase();
    await source.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
