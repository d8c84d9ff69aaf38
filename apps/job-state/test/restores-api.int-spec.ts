/**
 * The restores API and `tidemark restore list|status|cancel` against job-state booted in-process, with real Kafka
 * and the backup-side MongoDB (topic prefix and meta database of its own). Proves:
 * - a restore of a complete snapshot (folded from a real `SnapshotEvent` on `tidemark.snapshots`) is registered
 *   with the snapshot's position and the target without credentials; unknown and unfinished snapshots, unknown jobs,
 *   bad bodies and unknown ids get 404 / 409 / 400 with the reason;
 * - progress, a user's cancel (also through the CLI) and the finish are recorded in `<meta>.restores`; a finished
 *   restore refuses changes; the list is newest first;
 * - each change is a `RestoreEvent` on `tidemark.restores` (PROGRESSED throttled), with no credentials in the bytes;
 * - a real `tidemark restore --snapshot ... --json` (a filesystem snapshot into the backup-side server) records
 *   itself: its `--json` carries the restore id, and job-state shows it complete with its documents.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BSON, MongoClient } from 'mongodb';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import {
  createKafka,
  defaultCodec,
  KafkaSnapshotEventPublisher,
  producerFor,
  restoreEventOf,
} from '@tidemark/bus';
import { opTime, type RestoreEvent } from '@tidemark/domain';
import { RESTORE_ID, type JobView, type RestoreView, type SnapshotView } from '@tidemark/jobs';
import { FileSystemSnapshotStore } from '@tidemark/snapshot-stores';
import { MemoryApplyFence, MemoryHeadSource, SnapshotTaker } from '@tidemark/snapshots';
import type { RunningService } from '@tidemark/service-shell';
import { ensureProject, getJson, postJson } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { cleanUp, eventually, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics, env } = specWorld('restores-api', 'ra');
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');
const SECRET = 'pa55-w0rd-xyz';
const TARGET = `mongodb://restorer:${SECRET}@127.0.0.1:27217/?replicaSet=rs0&authSource=admin`;

describe('restores API and CLI (job-state in-process, real Kafka and MongoDB)', () => {
  const codec = defaultCodec();
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let reader: Consumer;
  const raw: Buffer[] = [];
  const events: RestoreEvent[] = [];
  let job: JobView;
  let snapshotId: string;
  let failedSnapshotId: string;

  const api = (p: string): string => `${service.url}/api/v1${p}`;
  const eventsOf = (id: string, count: number) =>
    eventually(`${count} events of ${id}`, async () => {
      const mine = events.filter((e) => e.restoreId === id);
      return mine.length >= count ? mine : undefined;
    });
  function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: ROOT, env: { ...process.env, TIDEMARK_API_URL: service.url }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  before(async () => {
    service = await startJobState({ ...env, TIDEMARK_RESTORE_PROGRESS_EVENT_MS: '60000' });
    await ensureProject(service.url, 'shop');
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-restores-api-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
    reader = kafka.consumer({ groupId: `it-restores-${suffix}` });
    await reader.connect();
    await reader.subscribe({ topic: topics.restores.name, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        raw.push(message.value);
        events.push(restoreEventOf(codec.decodeAs('tidemark.restores.RestoreEvent', message.value, 'it')));
      },
    });
    const created = await postJson<JobView>(api('/jobs'), {
      project: 'shop',
      source: { uri: endpoints.source.uri },
      include: ['app'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    job = created.body;
    // Two snapshots as the snapshotter reports them: one complete, one failed.
    snapshotId = `${job.id}-20261203T100000Z-c0c0`;
    failedSnapshotId = `${job.id}-20261203T090000Z-f0f0`;
    const snapshots = new KafkaSnapshotEventPublisher(producer, topics.snapshots);
    const base = {
      jobId: job.id,
      syncId: `${job.id}-s1`,
      store: 'blockstore' as const,
      opTime: opTime(1_700_000_000, 5),
      opWallTime: new Date('2023-11-14T22:13:20.000Z'),
      takenAt: new Date('2026-12-03T10:00:00.000Z'),
      logicalBytes: 100,
      storedBytes: 100,
      namespaceCount: 1,
      documentCount: 10,
      at: new Date(),
    };
    await snapshots.publish({ ...base, event: 'completed', snapshotId, completedAt: new Date() });
    await snapshots.publish({ ...base, event: 'failed', snapshotId: failedSnapshotId, reason: 'disk full' });
    await eventually('the snapshots folded', async () => {
      const res = await getJson<SnapshotView[]>(api(`/jobs/${job.id}/snapshots`));
      return res.body.length === 2 ? res.body : undefined;
    });
  });

  after(async () => {
    await reader?.disconnect();
    await producer?.disconnect();
    await service?.app.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`, `it-restores-${suffix}`],
    });
  });

  it('refuses what cannot be restored with the reason: 400, 404, 409', async () => {
    const bad = await postJson<{ problems: string[] }>(api('/restores'), {
      point: 'soon',
      target: 'http://x',
    });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.problems.includes('a point-in-time restore needs jobId'), JSON.stringify(bad.body));
    const unknownSnapshot = await postJson<{ message: string }>(api('/restores'), {
      snapshotId: `${job.id}-20261203T080000Z-none`,
      target: TARGET,
    });
    assert.equal(unknownSnapshot.status, 404);
    assert.match(unknownSnapshot.body.message, /snapshot .* not found/);
    const failed = await postJson<{ message: string }>(api('/restores'), {
      snapshotId: failedSnapshotId,
      target: TARGET,
    });
    assert.equal(failed.status, 409);
    assert.match(failed.body.message, /is failed: only a complete snapshot can be restored/);
    const unknownJob = await postJson(api('/restores'), {
      jobId: 'zzzz9999',
      point: '1700000000:1',
      target: TARGET,
    });
    assert.equal(unknownJob.status, 404);
    assert.equal((await getJson(api('/restores/r-zzzz9999-20261203T100000Z-none'))).status, 404);
    assert.equal((await postJson(api('/restores/r-zzzz9999-20261203T100000Z-none/cancel'), {})).status, 404);
    assert.equal((await getJson(api('/restores?job=zzzz9999'))).status, 404);
  });

  it('records a snapshot restore: begin, progress, cancel (CLI), cancelled; events on tidemark.restores', async () => {
    const begun = await postJson<RestoreView>(api('/restores'), {
      snapshotId,
      target: TARGET,
      include: ['app'],
      renames: ['app=app_restored'],
      drop: true,
    });
    assert.equal(begun.status, 201, JSON.stringify(begun.body));
    const r = begun.body;
    assert.equal(r.state, 'running');
    assert.equal(r.kind, 'snapshot');
    assert.equal(r.jobId, job.id);
    assert.deepEqual(r.at, { opTime: '1700000000:5', wallTime: '2023-11-14T22:13:20.000Z' });
    assert.equal(r.target, 'mongodb://127.0.0.1:27217/?replicaSet=rs0&authSource=admin');
    const progress = (documents: number, done = false) => ({
      documents,
      bytes: documents * 50,
      entries: 0,
      namespaces: { 'app_restored.users': { documents, done } },
    });
    assert.equal((await postJson(api(`/restores/${r.id}/progress`), progress(3))).status, 200);
    const second = await postJson<RestoreView>(api(`/restores/${r.id}/progress`), progress(7));
    assert.equal(second.status, 200);
    assert.equal(second.body.documents, 7);
    const back = await postJson<{ message: string }>(api(`/restores/${r.id}/progress`), progress(6));
    assert.equal(back.status, 409);
    assert.match(back.body.message, /progress never goes back/);

    const cancel = await cli('restore', 'cancel', r.id);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancel requested/);
    const status = await cli('restore', 'status', r.id, '--json');
    assert.equal(status.code, 0, status.stderr);
    const shown = JSON.parse(status.stdout) as RestoreView;
    assert.equal(shown.cancelRequested, true);
    assert.equal(shown.state, 'running');

    const finished = await postJson<RestoreView>(api(`/restores/${r.id}/finish`), {
      state: 'cancelled',
      reason: 'restore cancelled. app_restored.users: 7 documents written',
      progress: progress(7),
    });
    assert.equal(finished.status, 200, JSON.stringify(finished.body));
    assert.equal(finished.body.state, 'cancelled');
    assert.notEqual(finished.body.endedAt, null);
    const reopen = await postJson<{ message: string }>(api(`/restores/${r.id}/finish`), {
      state: 'complete',
    });
    assert.equal(reopen.status, 409);
    assert.match(reopen.body.message, /a finished restore cannot become complete/);
    assert.equal((await cli('restore', 'cancel', r.id)).code, 1, 'a finished restore cannot be cancelled');

    const mine = await eventsOf(r.id, 4);
    assert.deepEqual(
      mine.map((e) => [e.event, e.documents, e.cancelRequested]),
      [
        ['started', 0, false],
        ['progressed', 3, false],
        ['cancel-requested', 7, true],
        ['cancelled', 7, true],
      ],
      'the second progress is within the throttle interval: recorded, not published',
    );
    assert.equal(mine[0]!.target, r.target);
    assert.deepEqual(mine[0]!.opTime, opTime(1_700_000_000, 5));
    assert.deepEqual(mine[3]!.namespaces, [{ namespace: 'app_restored.users', documents: 7, done: false }]);
    for (const bytes of raw) assert.ok(!bytes.includes(Buffer.from(SECRET)), 'no event carries the password');
  });

  it('records a point-in-time restore to its end, lists newest first, and the CLI lists and shows it', async () => {
    const begun = await postJson<RestoreView>(api('/restores'), {
      jobId: job.id,
      point: '1700000000:9',
      target: 'mongodb://127.0.0.1:27217/',
    });
    assert.equal(begun.status, 201, JSON.stringify(begun.body));
    const r = begun.body;
    assert.equal(r.kind, 'point-in-time');
    assert.equal(r.snapshotId, null);
    const done = await postJson<RestoreView>(api(`/restores/${r.id}/finish`), {
      state: 'complete',
      snapshotId,
      at: { opTime: '1700000000:9', wallTime: null },
      progress: {
        documents: 10,
        bytes: 500,
        entries: 4,
        namespaces: { 'app.users': { documents: 10, done: true } },
      },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.state, 'complete');
    assert.equal(done.body.snapshotId, snapshotId);
    assert.equal(done.body.entries, 4);

    const listed = await getJson<{ restores: RestoreView[] }>(api(`/restores?job=${job.id}`));
    assert.equal(listed.status, 200);
    assert.equal(listed.body.restores[0]!.id, r.id, 'newest first');
    assert.equal(listed.body.restores.length, 2);
    const list = await cli('restore', 'list', '--job', job.id, '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as RestoreView[]).map((x) => x.id),
      listed.body.restores.map((x) => x.id),
    );
    const human = await cli('restore', 'status', r.id);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /state +complete/);
    assert.match(human.stdout, /app\.users: 10 documents, done/);

    const mine = await eventsOf(r.id, 2);
    assert.deepEqual(
      mine.map((e) => e.event),
      ['started', 'completed'],
    );
    assert.deepEqual(mine[1]!.opTime, opTime(1_700_000_000, 9));
    assert.equal(mine[1]!.point, '1700000000:9');
    assert.equal(mine[1]!.entries, 4);
  });

  it('a CLI restore of a real snapshot registers itself, reports, and ends complete; --json has its id', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'tidemark-restores-api-'));
    const backup = await MongoClient.connect(endpoints.backup.uri);
    const targetDb = `it_restored_${suffix}`;
    try {
      const created = await postJson<JobView>(api('/jobs'), {
        project: 'shop',
        source: { uri: endpoints.source.uri },
        include: ['shop'],
        snapshotStore: { kind: 'filesystem', path: root },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const fsJob = created.body;
      const head = new MemoryHeadSource();
      const docs = Array.from({ length: 300 }, (_, i) => BSON.serialize({ _id: i, name: `user${i}` }));
      head.setNamespace(fsJob.id, `${fsJob.id}-s1`, 'shop.users', docs);
      head.setApplied(fsJob.id, `${fsJob.id}-s1`, { t: 1_700_000_100, i: 1 });
      const sid = `${fsJob.id}-20261203T110000Z-fs01`;
      const taker = new SnapshotTaker({
        head,
        fence: new MemoryApplyFence(),
        store: new FileSystemSnapshotStore({ root }),
      });
      const taken = await taker.take({
        jobId: fsJob.id,
        syncId: `${fsJob.id}-s1`,
        snapshotId: sid,
        owner: 'spec',
        encoding: { codec: 'gzip' },
      });
      assert.equal(taken.state, 'complete');
      await new KafkaSnapshotEventPublisher(producer, topics.snapshots).publish({
        event: 'completed',
        jobId: fsJob.id,
        snapshotId: sid,
        syncId: `${fsJob.id}-s1`,
        store: 'filesystem',
        opTime: opTime(1_700_000_100, 1),
        takenAt: new Date(),
        completedAt: new Date(),
        logicalBytes: 1,
        storedBytes: 1,
        namespaceCount: 1,
        documentCount: docs.length,
        at: new Date(),
      });
      await eventually('the filesystem snapshot folded', async () => {
        const res = await getJson<SnapshotView>(api(`/snapshots/${sid}`));
        return res.status === 200 && res.body.state === 'complete' ? res.body : undefined;
      });

      const run = await cli(
        'restore',
        '--snapshot',
        sid,
        '--to',
        endpoints.backup.uri,
        '--rename',
        `shop=${targetDb}`,
        '--json',
      );
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as {
        id: string;
        state: string;
        snapshotId: string;
        namespaces: Record<string, { documents: number }>;
      };
      assert.match(out.id, RESTORE_ID);
      assert.equal(out.state, 'complete');
      assert.equal(out.snapshotId, sid);
      assert.deepEqual(out.namespaces[`${targetDb}.users`]?.documents, docs.length);
      assert.match(run.stderr, new RegExp(`restore ${out.id} recorded in job-state`));
      assert.equal(await backup.db(targetDb).collection('users').countDocuments(), docs.length);

      const shown = await getJson<RestoreView>(api(`/restores/${out.id}`));
      assert.equal(shown.status, 200);
      assert.equal(shown.body.state, 'complete');
      assert.equal(shown.body.documents, docs.length);
      assert.deepEqual(shown.body.namespaces, {
        [`${targetDb}.users`]: { documents: docs.length, done: true },
      });
      assert.deepEqual(shown.body.renames, [`shop=${targetDb}`]);
      assert.doesNotMatch(shown.body.target, /@/);
      const mine = await eventsOf(out.id, 2);
      assert.equal(mine[0]!.event, 'started');
      assert.equal(mine.at(-1)!.event, 'completed');
    } finally {
      await backup.db(targetDb).dropDatabase();
      await backup.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
