/**
 * End to end over the real servers: source -> agent -> Kafka -> slice-ingest -> oplog store -> head-builder /
 * oplog-applier -> head database, driven through job-state's API like a user would. It checks the head database
 * only: all six services run (the snapshotter's readiness checks its S3 bucket), but no snapshot is taken here, so
 * nothing is written to or read from S3; snapshots are checked by `apps/snapshotter/test/snapshotter.int-spec.ts`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import {
  compareHeads,
  loadedTestSource,
  runWriter,
  seedSource,
  ServiceStack,
  type StackService,
  type TestSource,
} from '@tidemark/testing';
import { JobApi, latestSourceTs, parseTs, suffix, tsGte, waitUntil, type JobStatus } from './helpers';

const TOTAL_DOCS = Number(process.env['TIDEMARK_E2E_DOCS'] ?? 100_000);

interface Run {
  source: TestSource;
  stack: ServiceStack;
  api: JobApi;
  dbs: string[];
  namespaces: string[];
}

async function newRun(name: string, docs: number): Promise<Run> {
  const s = suffix();
  const env = {
    TIDEMARK_TOPIC_PREFIX: `e2e-${name}-${s}`,
    TIDEMARK_META_DB: `e2e_meta_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
    TIDEMARK_SLICE_TARGET_BYTES: String(512 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '500',
    TIDEMARK_APPLY_LEASE_MS: '4000',
  };
  const dbs = [`e2e${s}_shop`, `e2e${s}_crm`];
  const per = Math.floor(docs / 4);
  const spec = {
    collections: {
      [`${dbs[0]}.orders`]: per * 2,
      [`${dbs[0]}.customers`]: per,
      [`${dbs[1]}.contacts`]: docs - per * 3,
      [`${dbs[1]}.empty`]: 0,
    },
    indexes: {
      [`${dbs[0]}.orders`]: [
        { key: { n: 1 }, name: 'n_1' },
        { key: { oid: 1 }, name: 'oid_1', unique: true },
      ],
      [`${dbs[1]}.contacts`]: [{ key: { at: -1, n: 1 }, name: 'at_-1_n_1' }],
    },
  };
  const t0 = Date.now();
  const source = await loadedTestSource({
    name: `e2e-${name}`,
    oplogBytes: 16 * 1024 * 1024,
    load: (client) => seedSource(client, spec),
  });
  console.log(`[${name}] seeded ${docs} documents in ${Date.now() - t0} ms (source ${source.uri})`);
  const stack = new ServiceStack(env, `${name}-${s}`);
  try {
    await stack.startAll();
  } catch (err) {
    // Not yet in the suite's runs, so its after() hook would not stop them: a started service or the source's
    // FerretDB left running keeps this file's process alive until the runner's timeout.
    await stack.stopAll().catch(() => undefined);
    await source.stop().catch(() => undefined);
    throw err;
  }
  return { source, stack, api: new JobApi(stack.apiUrl), dbs, namespaces: Object.keys(spec.collections) };
}

/** Starts the job, runs `during` while the sync runs with a writer, then checks equality at lag zero. */
async function backupAndCompare(
  run: Run,
  backup: MongoClient,
  during: (jobId: string) => Promise<void>,
): Promise<void> {
  const source = run.source.client;
  await run.api.ensureProject('e2e');
  const job = await run.api.call<{ id: string }>('POST', '/api/v1/jobs', {
    project: 'e2e',
    source: { uri: run.source.uri },
    include: run.dbs,
  });
  const writer = new AbortController();
  const writing = runWriter(
    source,
    run.namespaces.filter((n) => !n.endsWith('.empty')),
    writer.signal,
    50,
  );
  const t0 = Date.now();
  await run.api.call('POST', `/api/v1/jobs/${job.id}/start`);
  let status: JobStatus | undefined;
  try {
    await during(job.id);
    await waitUntil('the job to become active', 15 * 60_000, async () => {
      status = await run.api.call<JobStatus>('GET', `/api/v1/jobs/${job.id}/status`);
      if (status.blocked) throw new Error(`job blocked: ${JSON.stringify(status.blocked)}`);
      return status.state === 'active';
    });
  } finally {
    writer.abort();
  }
  const stats = await writing;
  console.log(`initial sync active after ${Date.now() - t0} ms; writer did ${JSON.stringify(stats)}`);
  const target = await latestSourceTs(source);
  const waitedFrom = Date.now();
  let lastReport = waitedFrom;
  // On FerretDB on SQLite the catch-up is slow: that backend scans the whole head collection for every update or
  // delete by _id (about 0.8 s on a 50,000-document collection), so each of the writer's updates and deletes
  // costs that much to apply. On MongoDB it takes seconds.
  await waitUntil('lag zero', 15 * 60_000, async () => {
    status = await run.api.call<JobStatus>('GET', `/api/v1/jobs/${job.id}/status`);
    const done = status.appliedOpTime !== null && tsGte(parseTs(status.appliedOpTime), target);
    if (!done && Date.now() - lastReport >= 20_000) {
      lastReport = Date.now();
      console.log(
        `waiting for lag zero (${Math.round((lastReport - waitedFrom) / 1000)} s): applied ${status.appliedOpTime}, target ${target.t}:${target.i}, phase ${status.phase}, lag ${JSON.stringify(status.lag)}, alerts ${JSON.stringify(status.alerts ?? [])}`,
      );
    }
    return done;
  });
  console.log(`lag zero ${Date.now() - waitedFrom} ms after the job became active`);
  assert.ok(status);
  assert.deepEqual(Object.keys(status.head.namespaces).sort(), [...run.namespaces].sort());
  const problems = await compareHeads(source, backup, status.head.namespaces);
  assert.deepEqual(problems, [], problems.join('\n'));
}

describe('backup to the head database end to end (real Kafka, FerretDB)', { concurrency: 1 }, () => {
  let backup: MongoClient;
  const runs: Run[] = [];

  before(async () => {
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
  });

  after(async () => {
    for (const run of runs) {
      await run.stack.stopAll();
      for (const db of run.dbs) await run.source.client.db(db).dropDatabase();
      await run.source.stop();
    }
    await backup?.close();
  });

  it(`initial sync of ${TOTAL_DOCS} documents while a writer runs, then continuous backup: head equals source`, async () => {
    const run = await newRun('sync', TOTAL_DOCS);
    runs.push(run);
    await backupAndCompare(run, backup, async () => undefined);
  });

  it('crash safety: every stage killed (SIGKILL) and restarted at a random moment mid-sync', async () => {
    const run = await newRun('crash', Math.max(20_000, Math.floor(TOTAL_DOCS / 4)));
    runs.push(run);
    const order: StackService[] = ['slice-ingest', 'head-builder', 'agent', 'oplog-applier', 'job-state'];
    await backupAndCompare(run, backup, async () => {
      for (const name of order) {
        await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 4000)));
        console.log(`killing ${name}`);
        await run.stack.kill(name);
        await run.stack.start(name);
      }
    });
  });
});
