/**
 * Alerts that open and close (docs/api.md, "Alerts"), end to end against real Kafka and the backup-side FerretDB,
 * with job-state booted in-process (topic prefix and databases of its own, small thresholds and a 500 ms round):
 * - SNAPSHOT_FAILED: a `SnapshotEvent` FAILED published as the snapshotter would opens an alert, listed for the
 *   project and the job, with an OPEN `AlertRaised` on `tidemark.alerts`; a later COMPLETED snapshot closes it, with a
 *   CLOSED event, and the job's `alerts` in its status show it closed (job-state folded its own event); a second
 *   failure opens a new alert (new id);
 * - VERIFY_FAILED on a damaged verify, closed by an intact one; RESTORE_FAILED on a restore finished failed, closed
 *   by a later one that completed;
 * - RESYNC_REQUIRED raised by the agent opens under the agent's alert id; `resync` closes it;
 * - OPLOG_BEHIND: the source (as the agent reported it) is past anything stored for longer than the threshold;
 *   stopping the job closes it;
 * - STAGE_NOT_CONSUMING: the agent's and the snapshotter's groups (no process runs them here) have commands to
 *   read and commit nothing; committing their offsets closes the alerts;
 * - bad queries are 400 with the reason; an unknown project or job 404.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { producerFor, publish, type AlertRaised, type SnapshotEvent } from '@tidemark/bus';
import { TestKafka, type TopicReader } from '@tidemark/bus-testing';
import type { AlertEntryView, JobStatus, JobView } from '@tidemark/jobs';
import type { RunningService } from '@tidemark/service-shell';
import { ensureProject, getJson, postJson } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { cleanUp, eventually, phaseChanged, specWorld } from './support';

const world = specWorld('alerts', 'al');
const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics } = world;
const env: NodeJS.ProcessEnv = {
  ...world.env,
  TIDEMARK_ALERT_EVAL_MS: '500',
  TIDEMARK_ALERT_OPLOG_BEHIND_MS: '2000',
  TIDEMARK_ALERT_STAGE_IDLE_MS: '3000',
};
const PROJECT = `alerts-${suffix}`;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');

describe('alerts: open, close, list, events (in-process job-state, real Kafka and FerretDB)', () => {
  let service: RunningService;
  let bus: TestKafka;
  let producer: Producer;
  let events: TopicReader;

  const api = (path: string): string => `${service.url}/api/v1${path}`;
  const list = async (path: string): Promise<AlertEntryView[]> => {
    const res = await getJson<{ alerts: AlertEntryView[] }>(api(path));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.alerts;
  };
  /** The lifecycle events on tidemark.alerts so far (stages' raises, state null, left out). */
  const lifecycle = () => events.records('tidemark.alerts.AlertRaised').filter((r) => r.state !== null);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) => eventually(what, probe, 60_000);

  /** The CLI against this job-state, with the run's admin key. */
  function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: ROOT, env: { ...process.env, TIDEMARK_API_URL: service.url }, timeout: 120_000 },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      );
    });
  }

  async function newJob(): Promise<string> {
    const created = await postJson<JobView>(api('/jobs'), {
      project: PROJECT,
      source: { uri: endpoints.source.uri },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await postJson(api(`/jobs/${created.body.id}/start`))).status, 200);
    return created.body.id;
  }

  function snapshotEvent(
    jobId: string,
    snapshotId: string,
    event: 'FAILED' | 'COMPLETED' | 'VERIFIED',
    at: Date,
    verify: SnapshotEvent['verify'] = null,
  ): SnapshotEvent {
    return {
      event,
      jobId,
      snapshotId,
      syncId: `${jobId}-s1`,
      store: 'BLOCKSTORE',
      opTs: (1_700_000_000n << 32n) | 1n,
      opWallTime: null,
      takenAt: at,
      completedAt: event === 'COMPLETED' ? at : null,
      logicalBytes: 0n,
      storedBytes: 0n,
      namespaceCount: 0n,
      documentCount: 0n,
      manifestChecksum: event === 'COMPLETED' ? 'sha256:00' : null,
      reason:
        event === 'FAILED'
          ? 'the apply fence was not released in 30 s'
          : verify?.ok === false
            ? '2 blocks did not match their address'
            : null,
      verify,
      requestId: null,
      at,
    };
  }

  before(async () => {
    service = await startJobState(env);
    await ensureProject(service.url, PROJECT);
    bus = new TestKafka(endpoints.kafka.brokers, prefix);
    producer = producerFor(bus.kafka);
    await producer.connect();
    events = await bus.reader(topics.alerts);
  });

  after(async () => {
    await producer?.disconnect();
    await service?.app.close();
    await bus?.cleanup([`${prefix}.tidemark-agent`, `${prefix}.tidemark-snapshotter`]);
    await cleanUp({
      kafka: bus.kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`],
    });
  });

  it('SNAPSHOT_FAILED opens on a failed snapshot and closes on the next completed one, with OPEN and CLOSED events', async () => {
    const id = await newJob();
    const t0 = Date.now();
    await publish(
      producer,
      topics.snapshots,
      snapshotEvent(id, `${id}-20261204T010000Z-f001`, 'FAILED', new Date(t0)),
    );

    const open = await waitFor('an open SNAPSHOT_FAILED alert', async () =>
      (await list(`/projects/${PROJECT}/alerts`)).find((a) => a.jobId === id && a.code === 'SNAPSHOT_FAILED'),
    );
    assert.equal(open.state, 'open');
    assert.equal(open.project, PROJECT);
    assert.equal(open.subject, id);
    assert.match(open.message, /^snapshot \S+-f001 failed: the apply fence was not released in 30 s$/);
    assert.equal(open.closedAt, null);
    assert.deepEqual(
      (await list(`/jobs/${id}/alerts`)).map((a) => a.alertId),
      [open.alertId],
    );
    const opened = await waitFor('the OPEN event', async () =>
      lifecycle().find((r) => r.alertId === open.alertId && r.state === 'OPEN'),
    );
    assert.deepEqual(
      [opened.jobId, opened.code, opened.subject, opened.closedAt],
      [id, 'SNAPSHOT_FAILED', id, null],
    );
    assert.equal(opened.context['project'], PROJECT);

    await publish(
      producer,
      topics.snapshots,
      snapshotEvent(id, `${id}-20261204T020000Z-c002`, 'COMPLETED', new Date(t0 + 1000)),
    );
    const closed = await waitFor('the alert closed', async () =>
      (await list(`/jobs/${id}/alerts?state=closed`)).find((a) => a.alertId === open.alertId),
    );
    assert.equal(closed.state, 'closed');
    assert.match(closed.closeReason ?? '', /^snapshot \S+-c002 completed$/);
    assert.ok(Date.parse(closed.closedAt ?? '') >= Date.parse(open.openedAt));
    assert.deepEqual(await list(`/jobs/${id}/alerts`), [], 'nothing open');
    const closedEvent = await waitFor('the CLOSED event', async () =>
      lifecycle().find((r) => r.alertId === open.alertId && r.state === 'CLOSED'),
    );
    assert.equal(closedEvent.closeReason, closed.closeReason);
    assert.equal(closedEvent.closedAt?.toISOString(), closed.closedAt);
    // job-state folded its own events into the job view: the Backup page sees the alert, closed.
    const status = await waitFor('the job view showing it closed', async () => {
      const s = (await getJson<JobStatus>(api(`/jobs/${id}/status`))).body;
      return s.alerts.find((a) => a.alertId === open.alertId && a.state === 'closed') ? s : undefined;
    });
    assert.equal(status.alerts.filter((a) => a.alertId === open.alertId).length, 1);

    // It fails again: a new alert, a new id; the closed one stays closed.
    await publish(
      producer,
      topics.snapshots,
      snapshotEvent(id, `${id}-20261204T030000Z-f003`, 'FAILED', new Date(t0 + 2000)),
    );
    const again = await waitFor('a second SNAPSHOT_FAILED', async () =>
      (await list(`/jobs/${id}/alerts`)).find((a) => a.code === 'SNAPSHOT_FAILED'),
    );
    assert.notEqual(again.alertId, open.alertId);
    const all = await list(`/jobs/${id}/alerts?state=all`);
    assert.deepEqual(
      all.map((a) => [a.alertId, a.state]),
      [
        [again.alertId, 'open'],
        [open.alertId, 'closed'],
      ],
    );
    // The CLI lists the same through the API: open ones, or with --all the closed one too; --json is an array.
    const cliAll = await cli('alert', 'list', '--project', PROJECT, '--job', id, '--all', '--json');
    assert.equal(cliAll.code, 0, cliAll.stderr);
    assert.deepEqual(JSON.parse(cliAll.stdout), all);
    const cliOpen = await cli('alert', 'list', '--project', PROJECT, '--job', id);
    assert.equal(cliOpen.code, 0, cliOpen.stderr);
    assert.match(
      cliOpen.stdout,
      new RegExp(`^\\S+  OPEN  critical  SNAPSHOT_FAILED  ${id}  ${id}  snapshot \\S+-f003 failed: .*\\n$`),
    );
    const elsewhere = await cli('alert', 'list', '--project', 'no-such-project');
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /project no-such-project/);
    // Each opening and closing went out once (job-state replicas and rounds do not repeat them).
    await new Promise((r) => setTimeout(r, 1500));
    const mine = lifecycle().filter((r) => r.jobId === id);
    assert.deepEqual(
      mine.map((r) => `${r.alertId === open.alertId ? 'first' : 'second'}:${r.state}`),
      ['first:OPEN', 'first:CLOSED', 'second:OPEN'],
    );
  });

  it('VERIFY_FAILED opens on a damaged verify and closes on an intact one; RESTORE_FAILED opens on a failed restore and closes on a completed one', async () => {
    const id = await newJob();
    const sid = `${id}-20261204T010000Z-v001`;
    const t0 = Date.now();
    await publish(producer, topics.snapshots, snapshotEvent(id, sid, 'COMPLETED', new Date(t0)));
    await publish(
      producer,
      topics.snapshots,
      snapshotEvent(id, sid, 'VERIFIED', new Date(t0 + 1000), { ok: false, damagedBlocks: 2n }),
    );
    const damaged = await waitFor('VERIFY_FAILED open', async () =>
      (await list(`/jobs/${id}/alerts`)).find((a) => a.code === 'VERIFY_FAILED'),
    );
    assert.equal(damaged.subject, sid);
    assert.equal(
      damaged.message,
      `snapshot ${sid} is damaged: 2 damaged block(s) (2 blocks did not match their address)`,
    );
    await publish(
      producer,
      topics.snapshots,
      snapshotEvent(id, sid, 'VERIFIED', new Date(t0 + 2000), { ok: true, damagedBlocks: 0n }),
    );
    const intact = await waitFor('VERIFY_FAILED closed', async () =>
      (await list(`/jobs/${id}/alerts?state=closed`)).find((a) => a.alertId === damaged.alertId),
    );
    assert.match(intact.closeReason ?? '', new RegExp(`found snapshot ${sid} intact$`));

    // Restores run in the CLI; job-state records them. One fails, the next completes.
    const restore = async (finish: { state: 'failed' | 'complete'; reason?: string }) => {
      const begun = await postJson<{ id: string }>(api('/restores'), {
        snapshotId: sid,
        target: 'mongodb://127.0.0.1:1/',
      });
      assert.equal(begun.status, 201, JSON.stringify(begun.body));
      const done = await postJson(api(`/restores/${begun.body.id}/finish`), finish);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      return begun.body.id;
    };
    const failedId = await restore({ state: 'failed', reason: 'the target refused the connection' });
    const failed = await waitFor('RESTORE_FAILED open', async () =>
      (await list(`/jobs/${id}/alerts`)).find((a) => a.code === 'RESTORE_FAILED'),
    );
    assert.equal(failed.message, `restore ${failedId} failed: the target refused the connection`);
    const completedId = await restore({ state: 'complete' });
    const closed = await waitFor('RESTORE_FAILED closed', async () =>
      (await list(`/jobs/${id}/alerts?state=closed`)).find((a) => a.alertId === failed.alertId),
    );
    assert.equal(closed.closeReason, `restore ${completedId} completed`);
  });

  it('RESYNC_REQUIRED raised by the agent opens under its id and closes when the job is resynced', async () => {
    const id = await newJob();
    const syncId = `${id}-s1`;
    await publish(
      producer,
      topics.phases,
      phaseChanged(id, syncId, { phase: 'COMPLETE', stage: 'head-builder' }),
    );
    await waitFor('the job active', async () => {
      const s = (await getJson<JobStatus>(api(`/jobs/${id}/status`))).body;
      return s.state === 'active' ? s : undefined;
    });
    const raised: AlertRaised = {
      alertId: `RESYNC_REQUIRED:${id}:${suffix}`,
      jobId: id,
      severity: 'CRITICAL',
      code: 'RESYNC_REQUIRED',
      message: `backup requires a resync: the source oplog no longer holds ${syncId}'s position`,
      context: { syncId },
      at: new Date(),
      state: null,
      subject: null,
      closedAt: null,
      closeReason: null,
    };
    await publish(producer, topics.alerts, raised);
    const open = await waitFor('RESYNC_REQUIRED open', async () =>
      (await list(`/projects/${PROJECT}/alerts`)).find((a) => a.jobId === id && a.code === 'RESYNC_REQUIRED'),
    );
    assert.deepEqual([open.alertId, open.subject, open.message], [raised.alertId, syncId, raised.message]);
    await waitFor('its OPEN event', async () =>
      lifecycle().find((r) => r.alertId === raised.alertId && r.state === 'OPEN'),
    );

    assert.equal((await postJson(api(`/jobs/${id}/resync`))).status, 200);
    const closed = await waitFor('RESYNC_REQUIRED closed by the resync', async () =>
      (await list(`/jobs/${id}/alerts?state=closed`)).find((a) => a.alertId === raised.alertId),
    );
    assert.equal(
      closed.closeReason,
      `sync ${syncId} ended: the job is in sync ${id}-s2 now (resync or restart)`,
    );
    await waitFor('its CLOSED event', async () =>
      lifecycle().find((r) => r.alertId === raised.alertId && r.state === 'CLOSED'),
    );
  });

  it('OPLOG_BEHIND opens when nothing is stored past the source position for the window; stopping the job closes it', async () => {
    const created = Date.now();
    const id = await newJob();
    const syncId = `${id}-s1`;
    const sourceTs = (BigInt(Math.floor(Date.now() / 1000)) << 32n) | 1n;
    await publish(producer, topics.phases, phaseChanged(id, syncId, { sourceTs }));
    const open = await waitFor('OPLOG_BEHIND open', async () =>
      (await list(`/jobs/${id}/alerts`)).find((a) => a.code === 'OPLOG_BEHIND'),
    );
    // job-state starts the window when it first sees the job's (empty) stored oplog, after the job was created.
    assert.ok(
      Date.parse(open.openedAt) >= created + 2000,
      `opened ${open.openedAt}, not before the 2 s window`,
    );
    assert.match(
      open.message,
      /^oplog is behind: no oplog slice stored for job \w+ since .* newest stored none\) while the source wrote up to \d+:1$/,
    );
    assert.equal((await postJson(api(`/jobs/${id}/stop`))).status, 200);
    const closed = await waitFor('OPLOG_BEHIND closed', async () =>
      (await list(`/jobs/${id}/alerts?state=closed`)).find((a) => a.alertId === open.alertId),
    );
    assert.equal(closed.closeReason, `job ${id} is stopped`);
  });

  it('OPLOG_BEHIND for an active job: the agent reports the source past anything stored (POST /agent/capture)', async () => {
    const id = await newJob();
    const syncId = `${id}-s1`;
    await publish(producer, topics.phases, phaseChanged(id, syncId, { phase: 'COMPLETE' }));
    await waitFor('the job active', async () =>
      (await getJson<JobView>(api(`/jobs/${id}`))).body.state === 'active' ? true : undefined,
    );
    const t = Math.floor(Date.now() / 1000);
    const reported = await postJson(
      api('/agent/capture'),
      { positions: [{ jobId: id, syncId, sourceTs: `${t}:7`, shippedTs: '0:0' }] },
      process.env['TIDEMARK_SERVICE_TOKEN'],
    );
    assert.equal(reported.status, 204, JSON.stringify(reported.body));
    // An API key may not report for the agent.
    assert.equal((await postJson(api('/agent/capture'), { positions: [] })).status, 401);
    const open = await waitFor('OPLOG_BEHIND open for the active job', async () =>
      (await list(`/jobs/${id}/alerts`)).find((a) => a.code === 'OPLOG_BEHIND'),
    );
    assert.match(open.message, new RegExp(`while the source wrote up to ${t}:7$`));
    const status = await getJson<JobStatus>(api(`/jobs/${id}/status`));
    assert.equal(status.body.state, 'active');
    assert.equal((await postJson(api(`/jobs/${id}/stop`))).status, 200);
  });

  it('STAGE_NOT_CONSUMING opens for a group that has commands to read and commits nothing; committing closes it', async () => {
    const agentGroup = `${prefix}.tidemark-agent`;
    const open = await waitFor('STAGE_NOT_CONSUMING of the agent', async () =>
      (await list(`/projects/${PROJECT}/alerts`)).find(
        (a) => a.code === 'STAGE_NOT_CONSUMING' && a.subject.startsWith(`${agentGroup}/`),
      ),
    );
    assert.equal(open.jobId, null);
    assert.equal(open.project, null);
    assert.equal(open.context['topic'], topics.commands.name);
    // The agent catches up: its group commits the end of every partition (as its consumer would).
    const admin = bus.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topics.commands.name);
      for (const groupId of [agentGroup, `${prefix}.tidemark-snapshotter`])
        await admin.setOffsets({
          groupId,
          topic: topics.commands.name,
          partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
        });
    } finally {
      await admin.disconnect();
    }
    const closed = await waitFor('STAGE_NOT_CONSUMING closed', async () =>
      (await list(`/projects/${PROJECT}/alerts?state=closed&limit=1000`)).find(
        (a) => a.alertId === open.alertId,
      ),
    );
    assert.match(closed.closeReason ?? '', /^the group read everything on \S+ partition \d+$/);
  });

  it('refuses a bad query with 400 and the reasons; an unknown project or job is 404', async () => {
    const bad = await getJson<{ problems: string[] }>(
      api(`/projects/${PROJECT}/alerts?state=maybe&limit=0&x=1`),
    );
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.problems.sort(), [
      'limit must be a whole number from 1 to 1000',
      'state must be open, closed or all',
      'unknown parameter x',
    ]);
    assert.equal((await getJson(api('/projects/no-such-project/alerts'))).status, 404);
    assert.equal((await getJson(api('/jobs/zzzz9999/alerts'))).status, 404);
  });
});
