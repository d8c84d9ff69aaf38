/**
 * The load cap on the source (issue 11): the real job-state and agent processes (`ServiceStack`, as deployed), real
 * Kafka, and a FerretDB source of the spec's own holding two databases of the same size (about 10 MB each), loaded
 * before its oplog exists. A sync's read rate is measured from what the agent put on Kafka: the raw bytes of its
 * initial-sync slices (`rawBytes`, the documents' BSON as read from the source) over the time from its TRANSFERRING
 * report to its last initial-sync slice (`producedAt`).
 *
 * 1. An uncapped job alone: its transfer time is the reference (taken again after step 2: the best of the two).
 * 2. A job capped at 0.8 MB/s (`readLimit` at create) on one database and, while it transfers, two uncapped jobs one
 *    after the other on the other database: the capped job's rate over its transfer (at least 10 s) is within 10%
 *    of the cap and never above it; the better uncapped run beside it takes at most 1.5 times the better run alone
 *    (best of two each: the two cores are shared with everything else, whose load comes and goes).
 * 3. A job capped at 0.5 MB/s whose limit is raised to 2 MB/s through `PATCH /api/v1/jobs/:id/settings` while it
 *    transfers: the agent applies it within one poll (its `read-limit-changed` log line) and the rate follows,
 *    within 10% of each limit before and after, without a restart of the sync. `job status` shows the limit; a bad
 *    limit is a 400.
 *
 * Runs alone, after the other specs (`*.solo.int-spec.ts`): its assertions are timings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BSON, type MongoClient } from 'mongodb';
import type { Kafka } from 'kafkajs';
import { createKafka, deleteTopics, resolveTopics, topicList } from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { connectMongo } from '@tidemark/mongo';
import {
  apiRequest,
  ensureProject,
  loadedTestSource,
  ServiceStack,
  until,
  type TestSource,
} from '@tidemark/testing';
import { TopicReader } from './kafka-reader';

const suffix = randomBytes(3).toString('hex');
const prefix = `it-readlimit-${suffix}`;
const topics = resolveTopics({ prefix, env: {} });
const endpoints = resolveEndpoints();
const MB = 1_000_000;
/** Documents per database, each about 1.6 kB of BSON (hex text: gzip halves it, so slices are not tiny). */
const DOCS = 6_000;
const env: NodeJS.ProcessEnv = {
  TIDEMARK_TOPIC_PREFIX: prefix,
  TIDEMARK_META_DB: `it_readlimit_meta_${suffix}`,
  TIDEMARK_OPLOG_STORE_DB: `it_readlimit_os_${suffix}`,
  // Small slices: many points to measure a rate between.
  TIDEMARK_SLICE_TARGET_BYTES: String(128 * 1024),
  TIDEMARK_OPLOG_FLUSH_MS: '500',
  TIDEMARK_AGENT_SETTINGS_POLL_MS: '500',
};

interface JobView {
  id: string;
  syncId: string | null;
  readLimit: number | null;
}

/** One sync's transfer as the agent delivered it. */
interface Transfer {
  /** Wall time of the agent's first TRANSFERRING report, ms. */
  readonly startedAt: number;
  /** Initial-sync slices in `producedAt` order. */
  readonly slices: readonly { readonly at: number; readonly bytes: number }[];
  readonly bytes: number;
  /** From TRANSFERRING to the last initial-sync slice, ms. */
  readonly ms: number;
  /** Bytes per second over `ms`. */
  readonly rate: number;
}

const mbps = (bytesPerSecond: number): string => `${(bytesPerSecond / MB).toFixed(3)} MB/s`;
const shown = (t: Transfer): string => `${t.bytes} bytes in ${t.ms} ms = ${mbps(t.rate)}`;

describe('the read limit on the source', () => {
  let source: TestSource;
  let stack: ServiceStack;
  let kafka: Kafka;
  let slices: TopicReader<'tidemark.slices.SliceProduced'>;
  let phases: TopicReader<'tidemark.phases.PhaseChanged'>;
  const dbs = { a: `rl${suffix}_a`, b: `rl${suffix}_b` };
  const sizes: Record<string, number> = {};

  async function api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
    return apiRequest<T>(method, `${stack.apiUrl}/api/v1${route}`, { body, timeoutMs: 15_000 });
  }

  async function ok<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await api<T>(method, route, body);
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function createJob(db: string, readLimit?: number): Promise<JobView> {
    return ok<JobView>('POST', '/jobs', {
      project: 'loadcap',
      source: { uri: source.uri },
      include: [db],
      ...(readLimit === undefined ? {} : { readLimit }),
    });
  }

  /** Waits for the sync's catalog slice, then measures its transfer. */
  async function transferOf(syncId: string): Promise<Transfer> {
    await until(
      `the catalog slice of ${syncId}`,
      () => slices.received.some((r) => r.value.syncId === syncId && r.value.kind === 'CATALOG'),
      120_000,
      { intervalMs: 100 },
    );
    const started = phases.received
      .filter(
        (r) => r.value.syncId === syncId && r.value.stage === 'agent' && r.value.phase === 'TRANSFERRING',
      )
      .map((r) => r.value.at.getTime());
    assert.ok(started.length > 0, `a TRANSFERRING report of ${syncId}`);
    const startedAt = Math.min(...started);
    const own = slices.received
      .filter((r) => r.value.syncId === syncId && r.value.kind === 'INITIAL')
      .map((r) => ({ at: r.value.producedAt.getTime(), bytes: Number(r.value.rawBytes) }))
      .sort((x, y) => x.at - y.at);
    const bytes = own.reduce((n, s) => n + s.bytes, 0);
    const ms = own[own.length - 1]!.at - startedAt;
    return { startedAt, slices: own, bytes, ms, rate: (bytes * 1000) / ms };
  }

  /** A new uncapped job on `db`, started, transferred, stopped. */
  async function uncappedRun(db: string): Promise<Transfer> {
    const job = await createJob(db);
    assert.equal(job.readLimit, null);
    await ok('POST', `/jobs/${job.id}/start`);
    const run = await transferOf(`${job.id}-s1`);
    await ok('POST', `/jobs/${job.id}/stop`);
    return run;
  }

  /** When the agent logged that it applied the limit job-state listed for `jobId` (`read-limit-changed`). */
  function appliedFromJobState(jobId: string, readLimit: string): boolean {
    const log = fs.readFileSync(path.join(stack.logDir, 'agent.log'), 'utf8');
    return log.split('\n').some((line) => {
      if (!line.startsWith('{')) return false;
      const e = JSON.parse(line) as Record<string, unknown>;
      return (
        e['event'] === 'read-limit-changed' &&
        e['jobId'] === jobId &&
        e['from'] === 'job-state' &&
        e['readLimit'] === readLimit
      );
    });
  }

  before(async () => {
    source = await loadedTestSource({
      name: 'readlimit',
      oplogBytes: 16 * 1024 * 1024,
      load: async (client: MongoClient) => {
        for (const db of Object.values(dbs)) {
          let size = 0;
          for (let k = 0; k < DOCS; k += 1000) {
            const batch = Array.from({ length: 1000 }, (_, n) => ({
              _id: k + n,
              text: randomBytes(780).toString('hex'),
            }));
            size += batch.reduce((total, d) => total + BSON.calculateObjectSize(d), 0);
            await client.db(db).collection<{ _id: number; text: string }>('docs').insertMany(batch);
          }
          sizes[db] = size;
        }
      },
    });
    stack = new ServiceStack(env, `readlimit-${suffix}`);
    try {
      await stack.startAll(['job-state', 'agent']);
      await ensureProject(stack.apiUrl, 'loadcap');
    } catch (err) {
      await stack.stopAll().catch(() => undefined);
      await source.stop().catch(() => undefined);
      throw err;
    }
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-readlimit-${suffix}` });
    slices = new TopicReader(kafka, [topics.slicesInitial], 'tidemark.slices.SliceProduced');
    phases = new TopicReader(kafka, [topics.phases], 'tidemark.phases.PhaseChanged');
    await slices.start();
    await phases.start();
  });

  after(async () => {
    await slices?.stop();
    await phases?.stop();
    await stack?.stopAll();
    await source?.stop();
    const backup = await connectMongo(endpoints.backup.uri, { appName: 'tidemark-readlimit-int-spec' });
    await backup.db(env['TIDEMARK_META_DB']!).dropDatabase();
    await backup.db(env['TIDEMARK_OPLOG_STORE_DB']!).dropDatabase();
    await backup.close();
    if (kafka !== undefined)
      await deleteTopics(
        kafka,
        topicList(topics).map((t) => t.name),
      );
  });

  it('holds a capped job to its limit while an uncapped job beside it keeps its speed, and follows a raised limit', async () => {
    const started = Date.now();
    console.log(
      `source: ${dbs.a} ${sizes[dbs.a]} bytes, ${dbs.b} ${sizes[dbs.b]} bytes (${DOCS} documents each)`,
    );

    // 1. The uncapped job alone.
    const aloneRuns = [await uncappedRun(dbs.a)];
    console.log(`uncapped alone: ${shown(aloneRuns[0]!)}`);

    // 2. A capped job, and uncapped jobs (one after the other) beside it while it transfers.
    const cap = 0.8;
    const capped = await createJob(dbs.b, cap);
    assert.equal(capped.readLimit, cap);
    await ok('POST', `/jobs/${capped.id}/start`);
    const besideRuns = [await uncappedRun(dbs.a), await uncappedRun(dbs.a)];
    const cappedRun = await transferOf(`${capped.id}-s1`);
    await ok('POST', `/jobs/${capped.id}/stop`);
    aloneRuns.push(await uncappedRun(dbs.a)); // alone again: the machine's load varies
    const cappedEnd = cappedRun.slices.at(-1)!.at;
    console.log(
      `capped at ${cap} MB/s: ${shown(cappedRun)} (${((cappedRun.rate / (cap * MB)) * 100).toFixed(1)}% of ` +
        `the limit); uncapped beside it: ${besideRuns.map(shown).join('; ')}; uncapped alone again: ` +
        `${shown(aloneRuns[1]!)}`,
    );
    assert.ok(cappedRun.ms >= 10_000, `the capped transfer takes at least 10 s (took ${cappedRun.ms} ms)`);
    assert.ok(cappedRun.rate <= cap * MB, `never faster than the limit: ${mbps(cappedRun.rate)}`);
    assert.ok(cappedRun.rate >= 0.9 * cap * MB, `within 10% of the limit: ${mbps(cappedRun.rate)}`);
    for (const run of besideRuns) {
      assert.ok(
        run.slices.at(-1)!.at < cappedEnd,
        'each uncapped run ended while the capped job transferred',
      );
    }
    // The best of each: a transient load of the machine (two cores, other suites) slows one run, not the cap.
    const aloneMs = Math.min(...aloneRuns.map((r) => r.ms));
    const besideMs = Math.min(...besideRuns.map((r) => r.ms));
    console.log(
      `uncapped beside / alone (best of two each): ${besideMs} / ${aloneMs} ms = ${(besideMs / aloneMs).toFixed(2)}`,
    );
    assert.ok(
      besideMs <= 1.5 * aloneMs,
      `uncapped beside the capped job: ${besideMs} ms, alone ${aloneMs} ms`,
    );

    // 3. The limit raised while a sync runs.
    const low = 0.5;
    const high = 2;
    const raised = await createJob(dbs.b, low);
    await ok('POST', `/jobs/${raised.id}/start`);
    const syncId = `${raised.id}-s1`;
    await until('2 MB of the raised job transferred', () => {
      const bytes = slices.received
        .filter((r) => r.value.syncId === syncId && r.value.kind === 'INITIAL')
        .reduce((n, r) => n + Number(r.value.rawBytes), 0);
      return bytes >= 2 * MB;
    });
    const status = await ok<{ readLimit: number | null }>('GET', `/jobs/${raised.id}/status`);
    assert.equal(status.readLimit, low, 'job status shows the limit');
    const refused = await api<{ message: string; problems: string[] }>(
      'PATCH',
      `/jobs/${raised.id}/settings`,
      {
        readLimit: 0,
      },
    );
    assert.equal(refused.status, 400);
    assert.match(refused.body.problems[0]!, /readLimit must be greater than 0/);
    const raisedAt = Date.now();
    const changed = await ok<JobView>('PATCH', `/jobs/${raised.id}/settings`, { readLimit: high });
    assert.equal(changed.readLimit, high);
    await until(
      'the agent to apply the raised limit',
      () => appliedFromJobState(raised.id, '2 MB/s'),
      10_000,
      {
        intervalMs: 20,
      },
    );
    const appliedAt = Date.now();
    const run = await transferOf(syncId);
    await ok('POST', `/jobs/${raised.id}/stop`);
    // Before the change: from TRANSFERRING to the last slice before it. After: from when the agent applied it
    // (its log line, seen within 20 ms) to the last slice.
    const slow = run.slices.filter((s) => s.at <= raisedAt);
    const beforeMs = slow.at(-1)!.at - run.startedAt;
    const beforeRate = (slow.reduce((n, s) => n + s.bytes, 0) * 1000) / beforeMs;
    const fast = run.slices.filter((s) => s.at > appliedAt);
    const afterMs = fast.at(-1)!.at - appliedAt;
    const afterRate = (fast.reduce((n, s) => n + s.bytes, 0) * 1000) / afterMs;
    console.log(
      `raised ${low} -> ${high} MB/s: applied by the agent ${appliedAt - raisedAt} ms after the PATCH; before ` +
        `${mbps(beforeRate)} over ${beforeMs} ms, after ${mbps(afterRate)} over ${afterMs} ms (${fast.length} ` +
        `slices); whole transfer ${run.ms} ms; spec ${Date.now() - started} ms`,
    );
    assert.ok(
      appliedAt - raisedAt <= 1_500,
      'the running sync follows within one poll (500 ms) and the request',
    );
    assert.ok(beforeRate <= low * MB && beforeRate >= 0.9 * low * MB, `before: ${mbps(beforeRate)}`);
    assert.ok(afterMs >= 1_500, `enough transfer after the change to measure (${afterMs} ms)`);
    assert.ok(afterRate <= 1.1 * high * MB && afterRate >= 0.9 * high * MB, `after: ${mbps(afterRate)}`);
  });
});
