/**
 * The agent app's wiring against real servers: the real job-state app (a child process, as deployed), the agent
 * app in-process, Kafka and the source server (FerretDB here), with a topic prefix, databases and consumer groups
 * of their own.
 *
 * 1. Jobs created and started through job-state's API reach the agent as START commands on `tidemark.commands`;
 *    the agent transfers them (TRANSFERRING folded by job-state, catalog slices published) and tails the oplog.
 * 2. The agent restarts. Its start-up recovery asks job-state for the jobs it serves and:
 *    - requests a resync (reason "agent restarted during transfer") for the job still in `transferring`, which
 *      job-state turns into a RESYNC command the agent then carries out (a second sync, transferred again);
 *    - resumes the tail of a job in `building` from its stored position (the sync's startTs: no oplog slice is
 *      stored without slice-ingest), shipping the writes made while the agent was down;
 *    - raises RESYNC_REQUIRED ("backup requires a resync") for a job whose stored position the source oplog no
 *      longer holds, and stops tailing it.
 * 3. An undecodable command is dead-lettered with an alert, and the agent goes on.
 * 4. An agent holding credentials bound to other hosts refuses a job on the real source: `AGENT_COMMAND_FAILED`
 *    (`SourceNotAllowedError`) in the job's status, no password in it, nothing running for the job.
 * The later phases (head-builder's BUILDING) are published by the test on `tidemark.phases`, as head-builder
 * would; for the third job that report also carries `startTs` 1.1, a position the source oplog no longer holds
 * (the shared oplog cannot be shrunk).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import { BSON, type MongoClient } from 'mongodb';
import {
  createKafka,
  deleteTopics,
  DLQ_HEADERS,
  ensureTopics,
  opTimeFromAvroLong,
  phaseToAvro,
  producerFor,
  publish,
  resolveTopics,
  sliceMetaFromProduced,
  topicList,
} from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { DEFAULT_SLICE_LIMITS, isAfter, type Phase } from '@tidemark/domain';
import { connectMongo } from '@tidemark/mongo';
import { bootstrapService, loadServiceConfig } from '@tidemark/service-shell';
import { decodeSlicePayload } from '@tidemark/slices';
import { TestKafka } from '@tidemark/bus-testing';
import {
  apiCall,
  ensureProject,
  startServiceProcess,
  uniqueDbName,
  type ServiceProcess,
} from '@tidemark/testing';
import { AppModule } from '../src/app.module';
import { AgentPipeline } from '../src/pipeline/agent-pipeline';
import { TopicReader } from './kafka-reader';

const suffix = randomBytes(4).toString('hex');
const prefix = `it-agent-app-${suffix}`;
const topics = resolveTopics({ prefix, env: {} });
const endpoints = resolveEndpoints();

const sharedEnv: NodeJS.ProcessEnv = {
  ...process.env,
  TIDEMARK_TOPIC_PREFIX: prefix,
  TIDEMARK_META_DB: `tidemark_meta_agentit_${suffix}`,
  TIDEMARK_OPLOG_STORE_DB: `tidemark_oplogstore_agentit_${suffix}`,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

interface JobView {
  id: string;
  state: string;
  phase: Phase | null;
  syncId: string | null;
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** job-state as deployed: `node --import tsx apps/job-state/src/main.ts`. */
function startJobState(): Promise<ServiceProcess> {
  return startServiceProcess('job-state', { ...sharedEnv, TIDEMARK_EFFECTS_FLUSH_MS: '500' });
}

/** job-state's API with the run's admin key (`key`: another, e.g. the service token for the agent's routes). */
function api<T>(base: string, method: string, route: string, body?: unknown, key?: string): Promise<T> {
  return apiCall<T>(method, `${base}${route}`, body, key);
}

describe('agent app with job-state, Kafka and the source', () => {
  let kafka: Kafka;
  let producer: Producer;
  let client: MongoClient;
  let jobState: ServiceProcess;
  let agent: INestApplication | undefined;
  const dbs = {
    tailed: uniqueDbName('agentapp_a'),
    gapped: uniqueDbName('agentapp_b'),
    interrupted: uniqueDbName('agentapp_c'),
  };
  const initial = () => new TopicReader(kafka, [topics.slicesInitial], 'tidemark.slices.SliceProduced');

  async function startAgent(extraEnv: NodeJS.ProcessEnv = {}): Promise<INestApplication> {
    const env: NodeJS.ProcessEnv = {
      ...sharedEnv,
      ...extraEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      TIDEMARK_API_URL: jobState.url,
      TIDEMARK_OPLOG_FLUSH_MS: '500',
      TIDEMARK_SLICE_TARGET_BYTES: '65536',
    };
    const running = await bootstrapService({
      name: 'agent',
      module: AppModule.forRoot(loadServiceConfig('agent', env), env),
      env,
    });
    await running.app.get(AgentPipeline).started;
    return running.app;
  }

  async function job(id: string): Promise<JobView> {
    return api<JobView>(jobState.url, 'GET', `/api/v1/jobs/${id}`);
  }

  async function reportPhase(
    view: JobView,
    phase: Phase,
    details: Record<string, string> = {},
  ): Promise<void> {
    const record = {
      jobId: view.id,
      syncId: view.syncId!,
      phase: phaseToAvro(phase),
      stage: 'head-builder',
      progress: { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
      appliedTs: null,
      sourceTs: null,
      at: new Date(),
      details,
    };
    await publish(producer, topics.phases, record);
  }

  before(async () => {
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-agent-app-${suffix}` });
    await ensureTopics(kafka, topicList(topics));
    producer = producerFor(kafka);
    await producer.connect();
    client = await connectMongo(endpoints.source.uri, { appName: 'tidemark-agent-app-int-spec' });
    for (const db of Object.values(dbs)) {
      await client
        .db(db)
        .collection<{ _id: number; v: string }>('items')
        .insertMany(Array.from({ length: 300 }, (_, k) => ({ _id: k, v: `v${k}` })));
    }
    jobState = await startJobState();
    await ensureProject(jobState.url, 'agent-it');
  });

  after(async () => {
    await agent?.close();
    if (jobState !== undefined) {
      await jobState.stop();
    }
    await producer?.disconnect();
    for (const db of Object.values(dbs)) await client?.db(db).dropDatabase();
    const backup = await connectMongo(endpoints.backup.uri, { appName: 'tidemark-agent-app-int-spec' });
    await backup.db(sharedEnv['TIDEMARK_META_DB']!).dropDatabase();
    await backup.db(sharedEnv['TIDEMARK_OPLOG_STORE_DB']!).dropDatabase();
    await backup.close();
    await client?.close();
    if (kafka !== undefined)
      await deleteTopics(
        kafka,
        topicList(topics).map((t) => t.name),
      );
  });

  it('starts jobs from job-state commands, then recovers them after a restart', async () => {
    const slices = initial();
    await slices.start();
    const oplog = new TopicReader(kafka, [topics.slicesOplog], 'tidemark.slices.SliceProduced');
    await oplog.start();
    const alerts = new TopicReader(kafka, [topics.alerts], 'tidemark.alerts.AlertRaised');
    await alerts.start();
    try {
      agent = await startAgent();
      const ids: Record<keyof typeof dbs, string> = { tailed: '', gapped: '', interrupted: '' };
      for (const key of Object.keys(dbs) as (keyof typeof dbs)[]) {
        const created = await api<JobView>(jobState.url, 'POST', '/api/v1/jobs', {
          project: 'agent-it',
          source: { uri: endpoints.source.uri },
          include: [dbs[key]],
        });
        ids[key] = created.id;
        await api(jobState.url, 'POST', `/api/v1/jobs/${created.id}/start`);
      }
      const catalogOf = (syncId: string) => () =>
        slices.received.find((m) => m.value.kind === 'CATALOG' && m.value.syncId === syncId);
      for (const id of Object.values(ids)) {
        const catalog = await until(`catalog of ${id}-s1`, 120_000, catalogOf(`${id}-s1`));
        assert.equal(catalog.key, id);
        const docs = slices.received
          .filter((m) => m.value.kind === 'INITIAL' && m.value.syncId === `${id}-s1`)
          .reduce((n, m) => n + Number(m.value.docCount), 0);
        assert.equal(docs, 300, `${id}: every document transferred`);
        const view = await until(`${id} transferring in job-state`, 30_000, async () => {
          const v = await job(id);
          return v.phase === 'transferring' ? v : undefined;
        });
        assert.equal(view.syncId, `${id}-s1`);
      }

      // The tail runs: a write reaches an oplog slice of its job.
      await client.db(dbs.tailed).collection<{ _id: string }>('items').insertOne({ _id: 'while-up' });
      await until(
        'the live write in an oplog slice',
        90_000,
        () =>
          oplog.received.find((m) => m.value.jobId === ids.tailed && Number(m.value.docCount) > 0) ??
          undefined,
      );

      // head-builder's progress: two jobs move on to building; the third stays in transferring.
      await reportPhase(await job(ids.tailed), 'building');
      await reportPhase(await job(ids.gapped), 'building', { startTs: '1.1' });
      for (const id of [ids.tailed, ids.gapped]) {
        await until(`${id} building`, 30_000, async () =>
          (await job(id)).phase === 'building' ? true : undefined,
        );
      }
      const tailedStartTs = (
        await api<{ startTs: string }>(
          jobState.url,
          'GET',
          `/api/v1/jobs/${ids.tailed}/resume`,
          undefined,
          process.env['TIDEMARK_SERVICE_TOKEN'],
        )
      ).startTs;

      // The agent goes down; a write happens meanwhile; a new agent starts.
      await agent.close();
      agent = undefined;
      const oplogBefore = oplog.received.length;
      await client.db(dbs.tailed).collection<{ _id: string }>('items').insertOne({ _id: 'while-down' });
      agent = await startAgent();

      // (a) the interrupted transfer: resync requested, RESYNC carried out as sync 2.
      await until('the resync of the interrupted job', 120_000, catalogOf(`${ids.interrupted}-s2`));
      const resynced = await job(ids.interrupted);
      assert.equal(resynced.syncId, `${ids.interrupted}-s2`);
      const s2docs = slices.received
        .filter((m) => m.value.kind === 'INITIAL' && m.value.syncId === `${ids.interrupted}-s2`)
        .reduce((n, m) => n + Number(m.value.docCount), 0);
      assert.equal(s2docs, 300);

      // (b) the tail resumed from the stored position and shipped the write made while the agent was down.
      const resumed = await until('the resumed tail to ship the write made while down', 120_000, () =>
        oplog.received.slice(oplogBefore).find((m) => {
          if (m.value.jobId !== ids.tailed || Number(m.value.docCount) === 0) return false;
          const meta = sliceMetaFromProduced(m.value);
          return decodeSlicePayload(m.value.payload, meta, DEFAULT_SLICE_LIMITS).some(
            (raw) => (BSON.deserialize(raw)['o'] as { _id?: unknown })._id === 'while-down',
          );
        }),
      );
      const afterRestart = oplog.received.slice(oplogBefore).filter((m) => m.value.jobId === ids.tailed);
      const [t, i] = tailedStartTs.split(':').map(Number);
      assert.deepEqual(
        opTimeFromAvroLong(afterRestart[0]!.value.prevTs!),
        { t, i },
        'resumed from the stored position',
      );
      for (let k = 1; k < afterRestart.length; k++) {
        assert.equal(afterRestart[k]!.value.prevTs, afterRestart[k - 1]!.value.lastTs, 'back to back');
      }
      assert.ok(
        !isAfter(opTimeFromAvroLong(resumed.value.prevTs!), opTimeFromAvroLong(resumed.value.lastTs!)),
      );

      // (c) the job whose position the oplog no longer holds: backup requires a resync, tailing stopped.
      const gap = await until('RESYNC_REQUIRED for the gapped job', 120_000, () =>
        alerts.received.find((m) => m.value.jobId === ids.gapped && m.value.code === 'RESYNC_REQUIRED'),
      );
      assert.equal(gap.value.severity, 'CRITICAL');
      assert.match(gap.value.message, /backup requires a resync/);
      assert.equal(gap.value.context['requestedTs'], '1:1');
      const pipeline = agent.get(AgentPipeline);
      await until('the gapped job to stop tailing', 30_000, () =>
        pipeline.supervisor.activity(ids.gapped) === undefined ? true : undefined,
      );
      assert.ok(pipeline.supervisor.activity(ids.tailed) !== undefined, 'the healthy job keeps tailing');
    } finally {
      await slices.stop();
      await oplog.stop();
      await alerts.stop();
    }
  });

  it('dead-letters a command that cannot be decoded, alerts, and goes on to the next command', async () => {
    agent ??= await startAgent();
    const bus = new TestKafka(endpoints.kafka.brokers, prefix);
    const alerts = new TopicReader(kafka, [topics.alerts], 'tidemark.alerts.AlertRaised');
    await alerts.start();
    const dlq = await bus.reader(topics.commandsDlq);
    try {
      const jobId = `garbage${suffix.slice(0, 1)}`;
      await producer.send({
        topic: topics.commands.name,
        acks: -1,
        messages: [{ key: jobId, value: Buffer.from('not a JobCommand') }],
      });
      // The next command on the same partition (same key): a STOP for a job the agent runs nothing for.
      const next = await publish(producer, topics.commands, {
        commandId: `after-garbage-${suffix}`,
        jobId,
        action: 'STOP',
        issuedAt: new Date(),
        params: {},
      });
      await until('the dead letter', 60_000, () => (dlq.messages.length > 0 ? true : undefined));
      const letter = dlq.messages[0]!;
      assert.equal(letter.key?.toString(), jobId, 'the original key is kept');
      assert.equal(letter.value?.toString(), 'not a JobCommand', 'the original bytes are kept');
      assert.match(letter.headers?.[DLQ_HEADERS.reason]?.toString() ?? '', /undecodable: .*bad-marker/);
      assert.equal(letter.headers?.[DLQ_HEADERS.sourceTopic]?.toString(), topics.commands.name);
      const alert = await until('AGENT_COMMAND_FAILED for the undecodable command', 60_000, () =>
        alerts.received.find(
          (m) => m.value.code === 'AGENT_COMMAND_FAILED' && /undecodable command/.test(m.value.message),
        ),
      );
      assert.match(alert.value.message, /dead-lettered/);

      // The agent went on: its group committed past the command that followed the garbage.
      const group = loadServiceConfig('agent', { ...sharedEnv }).consumerGroup;
      const admin = kafka.admin();
      await admin.connect();
      try {
        await until('the agent to commit past the next command', 60_000, async () => {
          const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topics.commands.name] });
          const committed = entry?.partitions.find((p) => p.partition === next.partition)?.offset;
          return committed !== undefined && BigInt(committed) > BigInt(next.baseOffset ?? next.offset ?? '0')
            ? true
            : undefined;
        });
      } finally {
        await admin.disconnect();
      }
    } finally {
      await alerts.stop();
      await dlq.stop();
    }
  });

  it('refuses a job whose source is not one it holds credentials for: AGENT_COMMAND_FAILED on the job, nothing sent', async () => {
    await agent?.close();
    const password = `pw-${suffix}-never-shown`;
    // Credentials bound to another deployment; the job names the real source, which therefore must not get them.
    agent = await startAgent({
      TIDEMARK_SOURCE_USERNAME: 'tidemark-backup',
      TIDEMARK_SOURCE_PASSWORD: password,
      TIDEMARK_SOURCE_HOSTS: 'db1.other.example:27017,db2.other.example:27017',
    });
    const created = await api<JobView>(jobState.url, 'POST', '/api/v1/jobs', {
      project: 'agent-it',
      source: { uri: endpoints.source.uri },
      include: [dbs.tailed],
    });
    await api(jobState.url, 'POST', `/api/v1/jobs/${created.id}/start`);
    const status = await until('the refusal in the job status', 60_000, async () => {
      const s = await api<{ alerts: { code: string; message: string }[] }>(
        jobState.url,
        'GET',
        `/api/v1/jobs/${created.id}/status`,
      );
      return s.alerts.some((a) => a.code === 'AGENT_COMMAND_FAILED') ? s : undefined;
    });
    const refusal = status.alerts.find((a) => a.code === 'AGENT_COMMAND_FAILED')!;
    assert.match(refusal.message, /SourceNotAllowedError/);
    assert.match(refusal.message, /not a source the agent was given credentials for/);
    assert.doesNotMatch(JSON.stringify(status), new RegExp(password), 'the password is never shown');
    const pipeline = agent.get(AgentPipeline);
    assert.equal(pipeline.supervisor.activity(created.id), undefined, 'nothing runs for the refused job');
  });
});
