/**
 * job-state's event consumer against real Kafka and the backup-side MongoDB, booted in-process with a topic prefix
 * and databases of its own. Proves: a PhaseChanged published with the bus codec is folded into its job and shows in
 * the status; phases only move forward and reports of another sync are ignored; AlertRaised SLICE_REJECTED blocks
 * the job; an undecodable message on each topic it folds (`tidemark.phases`, `tidemark.alerts`, `tidemark.snapshots`)
 * lands on that topic's dead-letter topic (declared by the bus) with its reason, and the record after it is folded; offsets are committed explicitly; /readyz is 200;
 * unknown jobs are 404 with a reason; the consumer leaves its group on close.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka, Producer } from 'kafkajs';
import {
  createKafka,
  DLQ_HEADERS,
  producerFor,
  publish,
  type AlertRaised,
  type SnapshotEvent,
} from '@tidemark/bus';
import { TestKafka } from '@tidemark/bus-testing';
import type { JobStatus, JobView } from '@tidemark/jobs';
import type { RunningService } from '@tidemark/service-shell';
import { ensureProject, getJson, postJson } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { cleanUp, eventually, phaseChanged, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, env, endpoints, topics } = specWorld('job-state', 'it');

describe('job-state events consumer (in-process, real Kafka and MongoDB)', () => {
  const group = `${prefix}.tidemark-job-state`;
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let closed = false;

  const api = (path: string): string => `${service.url}/api/v1${path}`;
  const status = (id: string) => getJson<JobStatus>(api(`/jobs/${id}/status`));
  const waitForStatus = (id: string, accept: (s: JobStatus) => boolean): Promise<JobStatus> =>
    eventually(`job ${id} status`, async () => {
      const { status: code, body } = await status(id);
      return code === 200 && accept(body) ? body : undefined;
    });
  /** A job in initial-sync, sync 1. */
  async function startedJob(): Promise<string> {
    const created = await postJson<JobView>(api('/jobs'), {
      project: 'it',
      source: { uri: endpoints.source.uri },
    });
    assert.equal(created.status, 201);
    const started = await postJson<JobView>(api(`/jobs/${created.body.id}/start`));
    assert.equal(started.status, 200);
    return created.body.id;
  }

  before(async () => {
    service = await startJobState(env);
    await ensureProject(service.url, 'it');
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-job-state-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    if (!closed) await service?.app.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [group, `it-dlq-reader-${suffix}`],
    });
  });

  it('is ready, with kafka and backup checked', async () => {
    const { status: code, body } = await getJson(`${service.url}/readyz`);
    assert.equal(code, 200);
    assert.deepEqual(body, { status: 'ready', checks: { kafka: 'ok', backup: 'ok' } });
    assert.equal((await getJson(`${service.url}/healthz`)).status, 200);
  });

  it('created its topics, including the dead-letter topic of each one it consumes, as the bus declares them', async () => {
    assert.equal(topics.phases.deadLetterName, `${prefix}.tidemark.phases.dlq`);
    assert.equal(topics.alerts.deadLetterName, topics.alertsDlq.name);
    assert.equal(topics.snapshots.deadLetterName, topics.snapshotsDlq.name);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({
        topics: [
          topics.phases.name,
          topics.alerts.name,
          topics.commands.name,
          topics.phasesDlq.name,
          topics.alertsDlq.name,
          topics.snapshotsDlq.name,
        ],
      });
      const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
      assert.equal(partitions[topics.phases.name], topics.phases.partitions);
      assert.equal(partitions[topics.alerts.name], topics.alerts.partitions);
      for (const dlq of [topics.phasesDlq, topics.alertsDlq, topics.snapshotsDlq])
        assert.equal(partitions[dlq.name], dlq.partitions, dlq.name);
    } finally {
      await admin.disconnect();
    }
  });

  it('folds a published PhaseChanged into its job: progress (Int64 exact), source facts', async () => {
    const id = await startedJob();
    await publish(
      producer,
      topics.phases,
      phaseChanged(id, `${id}-s1`, {
        progress: {
          docsCopied: 10n,
          docsTotal: 100n,
          bytesCopied: 9_007_199_254_740_993n, // above 2^53: must survive as Int64
          bytesTotal: null,
          namespaces: [
            { namespace: 'app.users', docsCopied: 10n, docsTotal: 20n, bytesCopied: 4096n, bytesTotal: null },
          ],
        },
        sourceTs: (6n << 32n) | 1n,
        details: { serverVersion: '7.0.12', featureCompatibilityVersion: '7.0', 'odd.$key': 'kept' },
      }),
    );
    const s = await waitForStatus(id, (v) => v.phase === 'transferring');
    assert.equal(s.progress.docsCopied, '10');
    assert.equal(s.progress.bytesCopied, '9007199254740993');
    assert.equal(s.progress.percent, 10);
    assert.equal(s.progress.stage, 'agent');
    assert.deepEqual(
      s.progress.namespaces.map((n) => [n.namespace, n.percent]),
      [['app.users', 50]],
    );
    assert.deepEqual(s.source, { serverVersion: '7.0.12', featureCompatibilityVersion: '7.0' });
  });

  it('only moves a phase forward and ignores reports of another sync', async () => {
    const id = await startedJob();
    const sync = `${id}-s1`;
    const t0 = Date.now();
    await publish(
      producer,
      topics.phases,
      phaseChanged(id, sync, { phase: 'BUILDING', stage: 'head-builder', at: new Date(t0) }),
    );
    await waitForStatus(id, (v) => v.phase === 'building');
    // Same key, same partition, so these are handled in this order.
    await publish(
      producer,
      topics.phases,
      phaseChanged(id, sync, { phase: 'STARTING', at: new Date(t0 + 1) }),
    );
    await publish(
      producer,
      topics.phases,
      phaseChanged(id, `${id}-s7`, { phase: 'COMPLETE', at: new Date(t0 + 2) }),
    );
    await publish(
      producer,
      topics.phases,
      phaseChanged(id, sync, {
        phase: 'BUILDING',
        stage: 'head-builder',
        at: new Date(t0 + 3),
        progress: { docsCopied: 20n, docsTotal: 40n, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
      }),
    );
    const s = await waitForStatus(id, (v) => v.progress.docsCopied === '20');
    assert.equal(s.phase, 'building', 'the earlier phase was not written back');
    assert.equal(s.state, 'initial-sync', 'a COMPLETE of another sync did not complete this one');
  });

  it('blocks a job on SLICE_REJECTED and skips an undecodable alert without stalling', async () => {
    const id = await startedJob();
    await producer.send({
      topic: topics.alerts.name,
      acks: -1,
      messages: [{ key: id, value: Buffer.from('not avro') }],
    });
    const alert: AlertRaised = {
      alertId: `SLICE_REJECTED:${suffix}:1`,
      jobId: id,
      severity: 'CRITICAL',
      code: 'SLICE_REJECTED',
      message: `slice ${id}-s1:o:1.0:2.0 was rejected and dead-lettered; the job's pipeline stops: checksum`,
      context: { sliceId: `${id}-s1:o:1.0:2.0` },
      at: new Date(),
      state: null,
      subject: null,
      closedAt: null,
      closeReason: null,
    };
    await publish(producer, topics.alerts, alert);
    const s = await waitForStatus(id, (v) => v.blocked !== null);
    assert.equal(s.blocked?.code, 'SLICE_REJECTED');
    assert.match(s.blocked?.message ?? '', /dead-lettered/);
    assert.deepEqual(
      s.alerts.map((a) => a.alertId),
      [alert.alertId],
    );
  });

  it('dead-letters an undecodable message on each topic it folds (phases, alerts, snapshots) and goes on', async () => {
    const id = await startedJob();
    const syncId = `${id}-s1`;
    /** Per topic: its dead-letter topic and a valid record sent right after the bad one, with the same key. */
    const cases = [
      {
        topic: topics.phases,
        dlq: topics.phasesDlq,
        next: () =>
          publish(
            producer,
            topics.phases,
            phaseChanged(id, syncId, { phase: 'COMPLETE', stage: 'head-builder' }),
          ),
      },
      {
        topic: topics.alerts,
        dlq: topics.alertsDlq,
        next: () =>
          publish(producer, topics.alerts, {
            alertId: `INFO:${suffix}:after-garbage`,
            jobId: id,
            severity: 'INFO',
            code: 'AGENT_COMMAND_FAILED',
            message: 'the alert after an undecodable one',
            context: {},
            at: new Date(),
            state: null,
            subject: null,
            closedAt: null,
            closeReason: null,
          } satisfies AlertRaised),
      },
      {
        topic: topics.snapshots,
        dlq: topics.snapshotsDlq,
        next: () =>
          publish(producer, topics.snapshots, {
            event: 'STARTED',
            jobId: id,
            snapshotId: `snap-${suffix}`,
            syncId,
            store: 'BLOCKSTORE',
            opTs: (1n << 32n) | 1n,
            opWallTime: null,
            takenAt: new Date(),
            completedAt: null,
            logicalBytes: 0n,
            storedBytes: 0n,
            namespaceCount: 0n,
            documentCount: 0n,
            manifestChecksum: null,
            reason: null,
            verify: null,
            requestId: null,
            at: new Date(),
          } satisfies SnapshotEvent),
      },
    ];
    const bus = new TestKafka(endpoints.kafka.brokers, prefix);
    const readers: { stop(): Promise<void> }[] = [];
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const { topic, dlq, next } of cases) {
        const reader = await bus.reader(dlq);
        readers.push(reader);
        const bad = `not avro at all, on ${topic.name}`;
        const [sent] = await producer.send({
          topic: topic.name,
          acks: -1,
          messages: [{ key: id, value: Buffer.from(bad) }],
        });
        const after = await next();
        const letter = await eventually(`the dead letter on ${dlq.name}`, async () =>
          reader.messages.find((m) => m.key?.toString() === id),
        );
        assert.equal(letter.value?.toString(), bad, 'original bytes are kept');
        const header = (name: string): string | undefined => letter.headers?.[name]?.toString();
        assert.match(header(DLQ_HEADERS.reason) ?? '', /^undecodable: .*bad-marker/, topic.name);
        assert.equal(header(DLQ_HEADERS.sourceTopic), topic.name);
        assert.equal(header(DLQ_HEADERS.sourcePartition), String(sent!.partition));
        assert.equal(header(DLQ_HEADERS.sourceOffset), sent!.baseOffset);
        // The consumer went on: the valid record after it, on the same partition, was folded and committed.
        await eventually(`the commit past the record after the bad one on ${topic.name}`, async () => {
          const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic.name] });
          const committed = entry?.partitions.find((p) => p.partition === after.partition)?.offset;
          return committed !== undefined &&
            BigInt(committed) > BigInt(after.baseOffset ?? after.offset ?? '0')
            ? true
            : undefined;
        });
      }
      const s = await waitForStatus(
        id,
        (v) => v.phase === 'complete' && v.alerts.some((a) => a.alertId === `INFO:${suffix}:after-garbage`),
      );
      assert.equal(s.state, 'active', 'COMPLETE of the current sync: initial-sync -> active');
      const { status: ready } = await getJson(`${service.url}/readyz`);
      assert.equal(ready, 200, 'no partition halted');
    } finally {
      await admin.disconnect();
      for (const r of readers) await r.stop();
    }
  });

  it('commits offsets explicitly up to the last handled message, on phases and alerts', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [topics.phases.name, topics.alerts.name]) {
        const ends = await admin.fetchTopicOffsets(topic);
        const committed = await eventually(`committed offsets of ${topic} to reach the end`, async () => {
          const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
          const all = entry?.partitions ?? [];
          const caughtUp = ends.every((e) => {
            const c = all.find((p) => p.partition === e.partition);
            return e.high === '0' ? true : c?.offset === e.high;
          });
          return caughtUp ? all : undefined;
        });
        assert.ok(
          committed.some((p) => BigInt(p.offset) > 0n),
          topic,
        );
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('answers 404 with a reason for an unknown job and 400 for a bad limit', async () => {
    const missing = await getJson<{ message: string }>(api('/jobs/nosuchjb'));
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /job nosuchjb not found/);
    assert.equal((await getJson(api('/jobs/nosuchjb/status'))).status, 404);
    assert.equal((await getJson(api('/jobs?limit=0'))).status, 400);
  });

  it('stops its consumer and leaves the group when the application closes', async () => {
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
