/**
 * `/metrics` of real services, scraped over HTTP while they work: job-state, the agent and slice-ingest run as child
 * processes exactly as deployed (`node --import tsx apps/<app>/src/main.ts`) against the real Kafka and FerretDB,
 * with a topic prefix and databases of their own. A job is created and started through job-state's API; the agent
 * transfers its collection and tails its oplog, slice-ingest stores the slices.
 *
 * 1. Counters move with the real work: the documents the agent published are the documents slice-ingest stored,
 *    a live write reaches an oplog slice (stored time and capture position of the job), slice-ingest's consumer
 *    lag is reported for every partition of both slice topics and drains to 0, and job-state times the phase the
 *    job left and counts a RESYNC_REQUIRED job once the alert is folded.
 * 2. The lag of a stopped group is exact: with the agent and slice-ingest stopped, N messages produced to one
 *    partition of `tidemark.slices.oplog` show as lag N on that partition (read the way `/metrics` reads it:
 *    `consumerLag` of the bus behind `ServiceMetrics`).
 * 3. Every metric the alerting rules (`deploy/prometheus/tidemark-alerts.yml`) use appears in a real scrape (the
 *    snapshotter's, in the snapshotter's own spec).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import {
  alertRaisedRecord,
  consumerLag,
  createKafka,
  deleteTopics,
  ensureTopics,
  producerFor,
  publish,
  resolveTopics,
  topicList,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { ALERT_CODES } from '@tidemark/domain';
import { connectMongo } from '@tidemark/mongo';
import {
  alertRuleMetricNames,
  apiCall,
  ensureProject,
  findSamples,
  parseMetricsText,
  scrapeMetrics,
  startServiceProcess,
  sumSamples,
  type MetricSample,
  uniqueDbName,
  until,
  type ServiceProcess,
} from '@tidemark/testing';
import { METRIC_NAMES, ServiceMetrics } from '../src/metrics/service-metrics';

const suffix = randomBytes(4).toString('hex');
const prefix = `it-metrics-${suffix}`;
const topics = resolveTopics({ prefix, env: {} });
const endpoints = resolveEndpoints();
const DOCS = 200;

const sharedEnv: NodeJS.ProcessEnv = {
  ...process.env,
  TIDEMARK_TOPIC_PREFIX: prefix,
  TIDEMARK_META_DB: `tidemark_meta_metricsit_${suffix}`,
  TIDEMARK_OPLOG_STORE_DB: `tidemark_oplogstore_metricsit_${suffix}`,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** One scrape of a service, or of a `ServiceMetrics` in the spec. */
class Scrape {
  constructor(readonly samples: MetricSample[]) {}

  static async of(service: ServiceProcess): Promise<Scrape> {
    return new Scrape(await scrapeMetrics(service.url));
  }

  find(name: string, labels: Record<string, string> = {}): MetricSample[] {
    return findSamples(this.samples, name, labels);
  }

  sum(name: string, labels: Record<string, string> = {}): number {
    return sumSamples(this.samples, name, labels);
  }
}

/** `until` of @tidemark/testing, polling every 500 ms (each probe scrapes services). */
const poll = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, seen?: () => string) =>
  until(what, probe, timeoutMs, { intervalMs: 500, ...(seen === undefined ? {} : { seen }) });

/** job-state's API with the run's admin key. */
function api<T>(base: string, method: string, route: string, body?: unknown): Promise<T> {
  return apiCall<T>(method, `${base}${route}`, body);
}

describe('/metrics of real services at work', { timeout: 10 * 60_000 }, () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let source: MongoClient;
  let jobState: ServiceProcess | undefined;
  let agent: ServiceProcess | undefined;
  let ingest: ServiceProcess | undefined;
  const db = uniqueDbName('metrics');
  let jobId = '';
  const scrapes: Scrape[] = [];

  before(async () => {
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-metrics-${suffix}` });
    await ensureTopics(kafka, topicList(topics));
    admin = kafka.admin();
    await admin.connect();
    producer = producerFor(kafka);
    await producer.connect();
    source = await connectMongo(endpoints.source.uri, { appName: 'tidemark-metrics-int-spec' });
    await source
      .db(db)
      .collection<{ _id: number; v: string }>('items')
      .insertMany(Array.from({ length: DOCS }, (_, k) => ({ _id: k, v: `v${k}` })));
    jobState = await startServiceProcess('job-state', { ...sharedEnv, TIDEMARK_EFFECTS_FLUSH_MS: '500' });
    await ensureProject(jobState.url, 'metrics-it');
    ingest = await startServiceProcess('slice-ingest', sharedEnv);
    agent = await startServiceProcess('agent', {
      ...sharedEnv,
      TIDEMARK_API_URL: jobState.url,
      TIDEMARK_OPLOG_FLUSH_MS: '500',
      TIDEMARK_SLICE_TARGET_BYTES: '16384',
    });
    // The agent is ready before its start-up recovery has read job-state's jobs. A job created in between is found
    // in initial-sync with no transfer of this agent's, and recovery asks for a resync (safe, but a second transfer
    // that this spec's counts would see): create the job once the agent consumes commands.
    await until(
      "the agent's recovery done and its commands consumed",
      () => agent!.lines.some((l) => l.includes('"event":"agent-consuming-commands"')) || undefined,
      60_000,
    );
  });

  after(async () => {
    for (const p of [agent, ingest, jobState]) await p?.stop();
    await producer?.disconnect();
    await admin?.disconnect();
    await source?.db(db).dropDatabase();
    await source?.close();
    const backup = await connectMongo(endpoints.backup.uri, { appName: 'tidemark-metrics-int-spec' });
    await backup.db(sharedEnv['TIDEMARK_META_DB']!).dropDatabase();
    await backup.db(sharedEnv['TIDEMARK_OPLOG_STORE_DB']!).dropDatabase();
    await backup.close();
    if (kafka !== undefined)
      await deleteTopics(
        kafka,
        topicList(topics).map((t) => t.name),
      );
  });

  it('counters move with real work; consumer lag per partition; capture lag; phase durations; resync required', async () => {
    const created = await api<{ id: string }>(jobState!.url, 'POST', '/api/v1/jobs', {
      project: 'metrics-it',
      source: { uri: endpoints.source.uri },
      include: [db],
    });
    jobId = created.id;
    await api(jobState!.url, 'POST', `/api/v1/jobs/${jobId}/start`);

    // The transfer: the documents the agent published are the documents slice-ingest stored, catalog included.
    const initial = { kind: 'initial' };
    const catalog = { kind: 'catalog' };
    let lastSeen = '';
    await poll(
      'the transfer stored',
      180_000,
      async () => {
        const agentSide = await Scrape.of(agent!);
        const ingestSide = await Scrape.of(ingest!);
        const catalogs = [
          agentSide.sum(METRIC_NAMES.slices, { ...catalog, outcome: 'published' }),
          ingestSide.sum(METRIC_NAMES.slices, { ...catalog, outcome: 'stored' }),
        ];
        // Stored once each; a slice the agent sent again (a retry under load) is counted a duplicate, not lost.
        const resent = ingestSide.sum(METRIC_NAMES.slices, { ...catalog, outcome: 'duplicate' });
        const published = agentSide.sum(METRIC_NAMES.sliceDocuments, { ...initial, outcome: 'published' });
        const stored = ingestSide.sum(METRIC_NAMES.sliceDocuments, { ...initial, outcome: 'stored' });
        const duplicate = ingestSide.sum(METRIC_NAMES.sliceDocuments, { ...initial, outcome: 'duplicate' });
        lastSeen = JSON.stringify({ catalogs, resent, published, stored, duplicate });
        if (catalogs[1] !== 1 || catalogs[0] !== catalogs[1] + resent) return undefined;
        return stored === DOCS && published === stored + duplicate ? true : undefined;
      },
      () => `last seen in the scrapes ${lastSeen}`,
    );
    const ingested = await Scrape.of(ingest!);
    assert.ok(ingested.sum(METRIC_NAMES.slices, { kind: 'initial', outcome: 'stored' }) >= 1);
    assert.ok(ingested.sum(METRIC_NAMES.sliceBytes, { kind: 'initial', outcome: 'stored' }) > 0);
    assert.equal(ingested.sum(METRIC_NAMES.slices, { outcome: 'rejected' }), 0);

    // A live write reaches an oplog slice: its stored time, and the job's capture position on the agent.
    const startedAt = Math.floor(Date.now() / 1000);
    await source
      .db(db)
      .collection<{ _id: string }>('items')
      .insertMany([{ _id: 'w1' }, { _id: 'w2' }, { _id: 'w3' }]);
    const withOplog = await poll('the live writes stored in an oplog slice', 120_000, async () => {
      const s = await Scrape.of(ingest!);
      return s.sum(METRIC_NAMES.sliceDocuments, { kind: 'oplog', outcome: 'stored' }) >= 3 ? s : undefined;
    });
    const [storedAt] = withOplog.find(METRIC_NAMES.oplogSliceStoredTime, { job_id: jobId });
    assert.ok(storedAt !== undefined, 'stored time of the job');
    assert.ok(
      storedAt.value >= startedAt - 1 && storedAt.value <= Date.now() / 1000 + 1,
      `${storedAt.value}`,
    );
    const agentScrape = await Scrape.of(agent!);
    const [sourceTime] = agentScrape.find(METRIC_NAMES.sourceOplogTime, { job_id: jobId, service: 'agent' });
    assert.ok(sourceTime !== undefined && sourceTime.value >= startedAt - 1, 'the source oplog time seen');
    const [captureLag] = agentScrape.find(METRIC_NAMES.captureLag, { job_id: jobId });
    assert.ok(captureLag !== undefined && captureLag.value >= 0 && captureLag.value < 600, 'capture lag');
    assert.ok(agentScrape.sum(METRIC_NAMES.slices, { kind: 'oplog', outcome: 'published' }) >= 1);

    // slice-ingest's group: a lag sample for every partition of both slice topics, drained to 0.
    const drained = await poll('slice-ingest lag at 0', 60_000, async () => {
      const s = await Scrape.of(ingest!);
      return s.find(METRIC_NAMES.consumerLag).length > 0 && s.sum(METRIC_NAMES.consumerLag) === 0
        ? s
        : undefined;
    });
    for (const topic of [topics.slicesInitial, topics.slicesOplog]) {
      const partitions = drained
        .find(METRIC_NAMES.consumerLag, { topic: topic.name, service: 'slice-ingest' })
        .map((s) => Number(s.labels['partition']))
        .sort((a, b) => a - b);
      assert.deepEqual(
        partitions,
        Array.from({ length: topic.partitions }, (_, k) => k),
        topic.name,
      );
    }
    // The agent reports its own group's lag on the commands topic.
    assert.ok(
      (await Scrape.of(agent!)).find(METRIC_NAMES.consumerLag, { topic: topics.commands.name }).length > 0,
    );

    // job-state: the job left `starting` (timed), is in initial sync, and needs no resync yet.
    const before = await Scrape.of(jobState!);
    assert.ok(
      before.sum(`${METRIC_NAMES.phaseDuration}_count`, { phase: 'starting' }) >= 1,
      'starting timed',
    );
    assert.equal(before.sum(METRIC_NAMES.jobs, { state: 'initial-sync' }), 1);
    assert.equal(before.sum(METRIC_NAMES.jobsResyncRequired), 0);

    // RESYNC_REQUIRED, as the agent raises it on an oplog gap, folded by job-state: the gauge counts the job.
    const view = await api<{ syncId: string }>(jobState!.url, 'GET', `/api/v1/jobs/${jobId}`);
    await publish(
      producer,
      topics.alerts,
      alertRaisedRecord({
        alertId: `metrics-it-gap-${suffix}`,
        jobId,
        severity: 'critical',
        code: ALERT_CODES.resyncRequired,
        message: 'backup requires a resync',
        context: { syncId: view.syncId },
        at: new Date(),
      }),
    );
    await poll('the resync-required job counted', 30_000, async () =>
      (await Scrape.of(jobState!)).sum(METRIC_NAMES.jobsResyncRequired) === 1 ? true : undefined,
    );

    scrapes.push(await Scrape.of(jobState!), await Scrape.of(agent!), await Scrape.of(ingest!));
    for (const [s, service] of [
      [scrapes[0]!, 'job-state'],
      [scrapes[1]!, 'agent'],
      [scrapes[2]!, 'slice-ingest'],
    ] as const) {
      assert.ok(
        s.find('tidemark_process_cpu_user_seconds_total', { service }).length === 1,
        `${service}: process`,
      );
    }
  });

  it('the lag of a stopped group is the number of messages produced since: N on their partition', async () => {
    await agent?.stop();
    agent = undefined;
    await poll('slice-ingest drained', 60_000, async () =>
      (await Scrape.of(ingest!)).sum(METRIC_NAMES.consumerLag) === 0 ? true : undefined,
    );
    await ingest?.stop();
    ingest = undefined;

    const N = 7;
    const oplog = topics.slicesOplog.name;
    await producer.send({
      topic: oplog,
      messages: Array.from({ length: N }, (_, k) => ({
        partition: 1,
        value: Buffer.from(`not a slice ${k}`),
      })),
    });
    const group = `${prefix}.tidemark-slice-ingest`;
    const metrics = new ServiceMetrics('slice-ingest');
    metrics.watchConsumerLag(() => consumerLag(admin, group, [topics.slicesInitial.name, oplog]));
    const scrape = new Scrape(parseMetricsText(await metrics.scrape()));
    assert.equal(scrape.sum(METRIC_NAMES.consumerLag, { topic: oplog, partition: '1' }), N);
    assert.equal(scrape.sum(METRIC_NAMES.consumerLag), N, 'nothing on the other partitions');
    // The same from the bus directly: high watermark minus the committed offset (or the low one, if none).
    const [row] = (await consumerLag(admin, group, [oplog])).filter((p) => p.partition === 1);
    assert.equal(row!.lag, BigInt(N));
    assert.equal(row!.high - (row!.committed ?? 0n), BigInt(N));
  });

  it('every metric the alerting rules use appears in a real scrape', () => {
    assert.equal(scrapes.length, 3, 'the scrapes of the first test');
    // The snapshotter is not among the services this spec runs: its metrics are checked in a real scrape by the
    // snapshotter's own spec, after real snapshots, verifies and a delete.
    const elsewhere: Record<string, string> = {
      [METRIC_NAMES.snapshotEvents]: 'apps/snapshotter/test/snapshotter.int-spec.ts',
    };
    const names = alertRuleMetricNames().filter((n) => elsewhere[n] === undefined);
    const seen = new Set(scrapes.flatMap((s) => s.samples.map((x) => x.name)));
    assert.deepEqual(
      names.filter((n) => !seen.has(n)),
      [],
      `used by deploy/prometheus/tidemark-alerts.yml (${names.join(', ')}) but in no scrape`,
    );
  });
});
