/**
 * job-state against real Kafka and the backup-side MongoDB, booted in-process with a topic prefix and a meta
 * database of its own. Proves: a PhaseChanged published with the bus codec shows in the REST API; phases only
 * move forward; offsets are committed explicitly; an undecodable message lands on the dead-letter topic with
 * its reason and does not block the partition; /readyz is 200; unknown jobs are 404 with a reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import {
  createKafka,
  deleteTopics,
  DLQ_HEADERS,
  producerFor,
  publish,
  resolveTopics,
  type PhaseChanged,
  type Topics,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import type { RunningService } from '@tidemark/shell';
import { startJobState } from '../src/job-state-service';

const suffix = randomBytes(4).toString('hex');
const prefix = `it-job-state-${suffix}`;
const metaDb = `tidemark_meta_it_${suffix}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: '0',
  TIDEMARK_TOPIC_PREFIX: prefix,
  TIDEMARK_META_DB: metaDb,
};

function report(jobId: string, overrides: Partial<PhaseChanged> = {}): PhaseChanged {
  return {
    jobId,
    syncId: 'sync-1',
    phase: 'TRANSFERRING',
    stage: 'agent',
    progress: {
      docsCopied: 10n,
      docsTotal: 100n,
      bytesCopied: 9_007_199_254_740_993n, // above 2^53: must survive as Int64
      bytesTotal: null,
      namespaces: [
        { namespace: 'app.users', docsCopied: 10n, docsTotal: null, bytesCopied: 4096n, bytesTotal: null },
      ],
    },
    appliedTs: null,
    sourceTs: null,
    details: {},
    at: new Date(),
    ...overrides,
  };
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface JobViewBody {
  jobId: string;
  syncId: string;
  phase: string;
  stage: string;
  progress: { docsCopied: string; bytesCopied: string; namespaces: { namespace: string }[] };
  appliedTs: string | null;
  sourceTs: string | null;
  details: Record<string, string>;
}

describe('job-state (in-process, real Kafka and MongoDB)', () => {
  const endpoints = resolveEndpoints(env);
  const topics: Topics = resolveTopics({ prefix, env });
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let closed = false;

  const jobUrl = (id: string): string => `${service.url}/api/v1/jobs/${encodeURIComponent(id)}`;
  const waitForView = (id: string, accept: (v: JobViewBody) => boolean): Promise<JobViewBody> =>
    eventually(`job ${id} view`, async () => {
      const { status, body } = await getJson(jobUrl(id));
      return status === 200 && accept(body as JobViewBody) ? (body as JobViewBody) : undefined;
    });

  before(async () => {
    service = await startJobState(env);
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-job-state-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    if (!closed) await service?.app.close();
    const mongo = await MongoClient.connect(endpoints.backup.uri);
    await mongo.db(metaDb).dropDatabase();
    await mongo.close();
    const admin = kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    await admin.deleteGroups([`${prefix}.tidemark-job-state`]);
    await admin.disconnect();
    await deleteTopics(kafka, mine);
  });

  it('is ready, with kafka and backup checked', async () => {
    const { status, body } = await getJson(`${service.url}/readyz`);
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ready', checks: { kafka: 'ok', backup: 'ok' } });
    assert.equal((await getJson(`${service.url}/healthz`)).status, 200);
  });

  it('created its topics, including the dead-letter topic, with the declared partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({
        topics: [topics.phases.name, `${topics.phases.name}.dlq`],
      });
      const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
      assert.equal(partitions[topics.phases.name], topics.phases.partitions);
      assert.ok((partitions[`${topics.phases.name}.dlq`] ?? 0) >= 1);
    } finally {
      await admin.disconnect();
    }
  });

  it('folds a published PhaseChanged into the job view and serves it', async () => {
    const jobId = `job-${suffix}-a`;
    await publish(
      producer,
      topics.phases,
      jobId,
      report(jobId, {
        appliedTs: (5n << 32n) | 7n,
        sourceTs: (6n << 32n) | 1n,
        details: { serverVersion: '7.0.12', 'odd.$key': 'kept' },
      }),
    );
    const view = await waitForView(jobId, (v) => v.phase === 'transferring');
    assert.equal(view.syncId, 'sync-1');
    assert.equal(view.stage, 'agent');
    assert.equal(view.progress.docsCopied, '10');
    assert.equal(view.progress.bytesCopied, '9007199254740993');
    assert.equal(view.progress.namespaces[0]?.namespace, 'app.users');
    assert.equal(view.appliedTs, '5:7');
    assert.equal(view.sourceTs, '6:1');
    assert.deepEqual(view.details, { serverVersion: '7.0.12', 'odd.$key': 'kept' });

    const list = await getJson(`${service.url}/api/v1/jobs`);
    assert.equal(list.status, 200);
    assert.ok((list.body as { jobs: JobViewBody[] }).jobs.some((j) => j.jobId === jobId));
  });

  it('only moves a phase forward; a new sync attempt reported later replaces it', async () => {
    const jobId = `job-${suffix}-b`;
    const t0 = Date.now();
    await publish(producer, topics.phases, jobId, report(jobId, { phase: 'BUILDING', at: new Date(t0) }));
    await waitForView(jobId, (v) => v.phase === 'building');
    // Same key, same partition, so these are handled in this order.
    await publish(producer, topics.phases, jobId, report(jobId, { phase: 'STARTING', at: new Date(t0 + 1) }));
    await publish(
      producer,
      topics.phases,
      jobId,
      report(jobId, {
        phase: 'BUILDING',
        at: new Date(t0 + 2),
        progress: { ...report(jobId).progress, docsCopied: 20n },
      }),
    );
    const view = await waitForView(jobId, (v) => v.progress.docsCopied === '20');
    assert.equal(view.phase, 'building', 'the earlier phase was not written back');

    await publish(
      producer,
      topics.phases,
      jobId,
      report(jobId, { syncId: 'sync-2', phase: 'STARTING', at: new Date(t0 + 3) }),
    );
    const resync = await waitForView(jobId, (v) => v.syncId === 'sync-2');
    assert.equal(resync.phase, 'starting');
  });

  it('dead-letters an undecodable message with its reason and keeps consuming', async () => {
    const jobId = `job-${suffix}-c`;
    await producer.send({
      topic: topics.phases.name,
      acks: -1,
      messages: [{ key: jobId, value: Buffer.from('not avro at all') }],
    });
    await publish(producer, topics.phases, jobId, report(jobId, { phase: 'COMPLETE' }));
    await waitForView(jobId, (v) => v.phase === 'complete');

    const dlqName = `${topics.phases.name}.dlq`;
    const consumer = kafka.consumer({ groupId: `it-dlq-reader-${suffix}` });
    const received: KafkaMessage[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: dlqName, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void received.push(message) });
      const letter = await eventually('the dead letter', async () =>
        received.find((m) => m.key?.toString() === jobId),
      );
      assert.equal(letter.value?.toString(), 'not avro at all', 'original bytes are kept');
      const header = (name: string): string | undefined => letter.headers?.[name]?.toString();
      assert.match(header(DLQ_HEADERS.reason) ?? '', /bad-marker/);
      assert.equal(header(DLQ_HEADERS.sourceTopic), topics.phases.name);
    } finally {
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([`it-dlq-reader-${suffix}`]);
      await admin.disconnect();
    }
  });

  it('commits offsets explicitly up to the last handled message', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topics.phases.name);
      const committed = await eventually('committed offsets to reach the end', async () => {
        const [entry] = await admin.fetchOffsets({
          groupId: `${prefix}.tidemark-job-state`,
          topics: [topics.phases.name],
        });
        const all = entry?.partitions ?? [];
        const caughtUp = ends.every((e) => {
          const c = all.find((p) => p.partition === e.partition);
          return e.high === '0' ? true : c?.offset === e.high;
        });
        return caughtUp ? all : undefined;
      });
      assert.ok(committed.some((p) => BigInt(p.offset) > 0n));
    } finally {
      await admin.disconnect();
    }
  });

  it('answers 404 with a reason for an unknown job and 400 for a bad limit', async () => {
    const missing = await getJson(jobUrl('no-such-job'));
    assert.equal(missing.status, 404);
    assert.match((missing.body as { message: string }).message, /job no-such-job not found/);
    const bad = await getJson(`${service.url}/api/v1/jobs?limit=0`);
    assert.equal(bad.status, 400);
  });

  it('stops its consumer and leaves the group when the application closes', async () => {
    const group = `${prefix}.tidemark-job-state`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const before = await admin.describeGroups([group]);
      assert.equal(before.groups[0]?.state, 'Stable');
      assert.equal(before.groups[0]?.members.length, 1);
      await service.app.close();
      closed = true;
      const after = await admin.describeGroups([group]);
      assert.equal(after.groups[0]?.state, 'Empty');
      assert.equal(after.groups[0]?.members.length, 0);
    } finally {
      await admin.disconnect();
    }
  });
});
