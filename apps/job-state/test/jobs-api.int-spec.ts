/**
 * The jobs API and the `tidemark job` CLI against job-state booted in-process, with real Kafka and the backup-side
 * MongoDB (topic prefix, meta database and oplog-store database of its own). Proves:
 * - create -> start: the job enters initial-sync with sync 1 and a START command with the documented params
 *   appears on `tidemark.commands`;
 * - PhaseChanged TRANSFERRING ... COMPLETE published like the stages do: the status shows `active`, the applied
 *   position from the `heads` record (MongoHeadRegistry), the head namespaces from its scan catalog, and the lag
 *   from the oplog slices stored through MongoOplogStore; `resume` and `agent/jobs` serve the agent;
 * - stop / restart / terminate send their commands; illegal actions are 409 with the reason; terminate deletes the
 *   retained backups (head databases, head record, oplog-store slices); bad input is 400 with every reason;
 * - the read limit: set at create, changed with `PATCH /jobs/:id/settings` while the job syncs (served to the agent,
 *   shown in the status), bad settings 400, unknown jobs 404; the CLI's `--read-limit` and `job set`;
 * - the CLI: `job create --json`, `job status --json` and the human status, `job wait` (state, `--lag-zero` against
 *   the source's newest oplog entry, timeout and blocked failures).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import {
  createKafka,
  defaultCodec,
  producerFor,
  publish,
  type AvroPhase,
  type JobCommand,
} from '@tidemark/bus';
import { headNamespace, type OplogSliceMeta } from '@tidemark/domain';
import { MongoHeadRegistry } from '@tidemark/head-database-mongo';
import type { JobResume, JobStatus, JobView, AgentJob } from '@tidemark/jobs';
import { MongoOplogStore } from '@tidemark/oplog-store';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest, ensureProject, getJson, postJson, testCredentialEnv } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { cleanUp, eventually, phaseChanged, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics, env } = specWorld('jobs-api', 'ja');
const sourceDb = `it_jobs_api_${suffix}`;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');
/** The agent's routes take the services' credential (the run's, credentials.ts of @tidemark/testing). */
const serviceToken = () => process.env['TIDEMARK_SERVICE_TOKEN']!;
const PHASES: AvroPhase[] = [
  'TRANSFERRING',
  'BUILDING',
  'APPLYING_OPLOGS',
  'FETCHING_MISSING_DOCUMENTS',
  'CREATING_INDEXES',
  'COMPLETE',
];

function oplogSlice(
  jobId: string,
  syncId: string,
  prev: [number, number],
  first: [number, number],
  last: [number, number],
  entries: number,
): OplogSliceMeta {
  return {
    kind: 'oplog',
    jobId,
    syncId,
    sliceId: `${syncId}:o:${prev.join('.')}:${last.join('.')}`,
    sequence: 0,
    docCount: entries,
    rawBytes: 4,
    compressedBytes: 4,
    codec: 'none',
    checksum: '0'.repeat(64),
    prevTs: { t: prev[0], i: prev[1] },
    firstTs: { t: first[0], i: first[1] },
    lastTs: { t: last[0], i: last[1] },
  };
}

describe('jobs API and CLI (job-state in-process, real Kafka and MongoDB)', () => {
  const codec = defaultCodec();
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let commandReader: Consumer;
  const commands: JobCommand[] = [];
  let backup: MongoClient;
  let source: MongoClient;
  let heads: MongoHeadRegistry;
  let oplogStore: MongoOplogStore;

  const api = (p: string): string => `${service.url}/api/v1${p}`;
  const status = async (id: string): Promise<JobStatus> => {
    const res = await getJson<JobStatus>(api(`/jobs/${id}/status`));
    assert.equal(res.status, 200);
    return res.body;
  };
  const waitForStatus = (id: string, accept: (s: JobStatus) => boolean): Promise<JobStatus> =>
    eventually(`job ${id} status`, async () => {
      const s = await status(id);
      return accept(s) ? s : undefined;
    });
  const commandFor = (id: string, action: string, syncId?: string): Promise<JobCommand> =>
    eventually(`${action} command for ${id}`, async () =>
      commands.find(
        (c) =>
          c.jobId === id && c.action === action && (syncId === undefined || c.params['syncId'] === syncId),
      ),
    );
  /** Publishes every phase after STARTING for the sync, as the stages would. */
  async function runSync(id: string, syncId: string, sourceTs: bigint | null = null): Promise<void> {
    let at = Date.now();
    for (const phase of PHASES) {
      await publish(
        producer,
        topics.phases,
        phaseChanged(id, syncId, {
          phase,
          stage: phase === 'TRANSFERRING' ? 'agent' : 'head-builder',
          at: new Date(at++),
          sourceTs,
          details:
            phase === 'TRANSFERRING'
              ? { startTs: '100.0', serverVersion: '7.0.12', featureCompatibilityVersion: '7.0' }
              : {},
          progress:
            phase === 'TRANSFERRING'
              ? {
                  docsCopied: 30n,
                  docsTotal: 40n,
                  bytesCopied: 3000n,
                  bytesTotal: 4000n,
                  namespaces: [
                    {
                      namespace: 'app.users',
                      docsCopied: 30n,
                      docsTotal: 40n,
                      bytesCopied: 3000n,
                      bytesTotal: 4000n,
                    },
                  ],
                }
              : { docsCopied: 0n, docsTotal: null, bytesCopied: 0n, bytesTotal: null, namespaces: [] },
        }),
      );
    }
  }
  async function createJob(body: Record<string, unknown> = {}): Promise<JobView> {
    const res = await postJson<JobView>(api('/jobs'), {
      project: 'shop',
      source: { uri: endpoints.source.uri },
      include: ['app'],
      ...body,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }
  function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return cliWith({}, ...args);
  }
  /** The CLI with `env` over the spec's (the run's admin key as TIDEMARK_API_KEY unless `env` says otherwise). */
  function cliWith(
    extra: NodeJS.ProcessEnv,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, TIDEMARK_API_URL: service.url, ...extra };
    for (const [k, v] of Object.entries(extra)) if (v === undefined) delete childEnv[k];
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: ROOT, env: childEnv, timeout: 120_000 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  before(async () => {
    service = await startJobState({ ...env, TIDEMARK_EFFECTS_FLUSH_MS: '500' });
    for (const project of ['shop', 'p']) await ensureProject(service.url, project);
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-jobs-api-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
    commandReader = kafka.consumer({ groupId: `it-commands-${suffix}` });
    await commandReader.connect();
    await commandReader.subscribe({ topic: topics.commands.name, fromBeginning: true });
    await commandReader.run({
      eachMessage: async ({ message }) => {
        if (message.value !== null)
          commands.push(codec.decodeAs('tidemark.commands.JobCommand', message.value, 'it'));
      },
    });
    backup = await MongoClient.connect(endpoints.backup.uri);
    heads = new MongoHeadRegistry(backup, metaDb);
    oplogStore = new MongoOplogStore(backup, oplogStoreDb);
    await oplogStore.init();
    source = await MongoClient.connect(endpoints.source.uri);
    // The source's oplog must hold at least one entry for `job wait --lag-zero`.
    await source.db(sourceDb).collection('marks').insertOne({ at: new Date() });
  });

  after(async () => {
    await commandReader?.disconnect();
    await producer?.disconnect();
    await service?.app.close();
    await source?.db(sourceDb).dropDatabase();
    await source?.close();
    await backup?.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`, `it-commands-${suffix}`],
    });
  });

  it('create -> start -> phases ... COMPLETE: active, applied position and lag from the backup side', async () => {
    const created = await createJob();
    assert.match(created.id, /^[a-z0-9]{8}$/);
    assert.equal(created.state, 'inactive');
    assert.deepEqual(created.allowedActions, ['start']);
    const id = created.id;
    assert.equal((await getJson<JobView>(api(`/jobs/${id}`))).body.project, 'shop');
    assert.ok((await getJson<{ jobs: JobView[] }>(api('/jobs'))).body.jobs.some((j) => j.id === id));

    const started = await postJson<JobView>(api(`/jobs/${id}/start`));
    assert.equal(started.status, 200);
    assert.equal(started.body.state, 'initial-sync');
    assert.equal(started.body.syncId, `${id}-s1`);
    const start = await commandFor(id, 'START');
    assert.deepEqual(
      { ...start.params },
      {
        syncId: `${id}-s1`,
        syncNo: '1',
        sourceUri: endpoints.source.uri,
        include: '["app"]',
        exclude: '[]',
      },
    );
    const agentJobs = await getJson<AgentJob[]>(api('/agent/jobs'), serviceToken());
    assert.deepEqual(
      agentJobs.body.find((j) => j.id === id),
      {
        id,
        state: 'initial-sync',
        phase: 'starting',
        syncId: `${id}-s1`,
        syncNo: 1,
        source: { uri: endpoints.source.uri },
        filters: { include: ['app'], exclude: [] },
        readLimit: null,
      },
    );

    const sync = `${id}-s1`;
    await heads.recordScanCatalog(id, sync, 1, {
      startTs: { t: 100, i: 0 },
      endTs: { t: 120, i: 0 },
      namespaces: [
        { ns: 'app.users', headNs: headNamespace(id, 1, 'app.users'), sliceCount: 1, docCount: 40 },
      ],
    });
    await heads.setAppliedTs(id, sync, { t: 150, i: 2 });
    await oplogStore.put(oplogSlice(id, sync, [100, 0], [100, 1], [150, 2], 5), Buffer.from('x'));
    await oplogStore.put(oplogSlice(id, sync, [150, 2], [151, 0], [160, 0], 3), Buffer.from('y'));
    await runSync(id, sync, (158n << 32n) | 0n);

    const s = await waitForStatus(id, (v) => v.state === 'active');
    assert.equal(s.phase, 'complete');
    assert.equal(s.syncId, sync);
    assert.equal(s.progress.percent, 100);
    assert.equal(s.appliedOpTime, '150:2');
    assert.deepEqual(
      s.lag,
      { seconds: 10, entries: 3 },
      'newest stored slice 160:0 beats the reported 158:0',
    );
    assert.deepEqual(s.head, {
      uri: endpoints.backup.uri.replace(/\/\/[^@/]*@/, '//'),
      namespaces: { 'app.users': `th_${id}_1_app.users` },
    });
    assert.deepEqual(s.source, { serverVersion: '7.0.12', featureCompatibilityVersion: '7.0' });
    assert.equal(s.blocked, null);

    const resume = await getJson<JobResume>(api(`/jobs/${id}/resume`), serviceToken());
    assert.deepEqual(resume.body, {
      id,
      syncId: sync,
      syncNo: 1,
      state: 'active',
      phase: 'complete',
      startTs: '100:0',
      resumeTs: '160:0',
    });
  });

  it('stop, restart and terminate send their commands; illegal actions are 409 with the reason', async () => {
    const { id } = await createJob();
    const conflict = async (action: string, state: string) => {
      const res = await postJson<{ message: string }>(api(`/jobs/${id}/${action}`));
      assert.equal(res.status, 409, `${action} in ${state}`);
      assert.match(res.body.message, new RegExp(`action "${action}" is not allowed in state "${state}"`));
    };
    await conflict('stop', 'inactive');
    await conflict('terminate', 'inactive');
    await postJson(api(`/jobs/${id}/start`));
    await conflict('start', 'initial-sync');
    await conflict('restart', 'initial-sync');
    await conflict('terminate', 'initial-sync');
    await runSync(id, `${id}-s1`);
    await waitForStatus(id, (v) => v.state === 'active');
    await conflict('start', 'active');
    await conflict('restart', 'active');

    const stopped = await postJson<JobView>(api(`/jobs/${id}/stop`));
    assert.equal(stopped.body.state, 'stopped');
    assert.equal((await commandFor(id, 'STOP')).params['syncId'], `${id}-s1`);
    await conflict('stop', 'stopped');
    await conflict('resync', 'stopped');

    const restarted = await postJson<JobView>(api(`/jobs/${id}/restart`));
    assert.equal(restarted.body.state, 'initial-sync');
    assert.equal(restarted.body.syncId, `${id}-s2`);
    const restart = await commandFor(id, 'RESTART');
    assert.equal(restart.params['syncNo'], '2');
    const stoppedAgain = await postJson<JobView>(api(`/jobs/${id}/stop`));
    assert.ok(
      stoppedAgain.status === 200 || stoppedAgain.status === 503,
      `second stop: ${stoppedAgain.status} ${JSON.stringify(stoppedAgain.body)}`,
    );
    await commandFor(id, 'STOP', `${id}-s2`);

    // Retained backups of both syncs: head databases, head records, oplog-store slices.
    for (const syncNo of [1, 2]) {
      const syncId = `${id}-s${syncNo}`;
      const headNs = headNamespace(id, syncNo, 'app.users');
      const [db, coll] = [headNs.slice(0, headNs.indexOf('.')), headNs.slice(headNs.indexOf('.') + 1)];
      await backup
        .db(db)
        .collection(coll)
        .insertOne({ _id: 1 } as never);
      await heads.recordScanCatalog(id, syncId, syncNo, {
        startTs: { t: 1, i: 0 },
        endTs: { t: 2, i: 0 },
        namespaces: [],
      });
      await oplogStore.put(oplogSlice(id, syncId, [1, 0], [1, 1], [2, 0], 1), Buffer.from('z'));
    }
    // The second stop's effects (its outbox) are sent in the background: terminate once they are done, so the
    // job's record is not being written by that flush at the same moment.
    // (A 503 above means the stop was stored but its command not yet acknowledged; the flusher, every 500 ms in
    // this spec, sends it.) The timeout names the job as last seen.
    let lastSeen: JobView | undefined;
    await eventually(
      `job ${id} stopped with its effects sent`,
      async () => {
        const view = (await getJson<JobView>(api(`/jobs/${id}`))).body;
        lastSeen = view;
        return view.state === 'stopped' && view.pendingEffects === false ? view : undefined;
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last seen: ${JSON.stringify(lastSeen)}`);
    });
    const terminated = await postJson<JobView>(api(`/jobs/${id}/terminate`));
    assert.equal(terminated.status, 200, JSON.stringify(terminated.body));
    assert.equal(terminated.body.state, 'inactive');
    assert.equal(terminated.body.pendingEffects, false);
    await commandFor(id, 'TERMINATE');
    const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
    assert.deepEqual(
      databases.map((d) => d.name).filter((n) => n.startsWith(`th_${id}_`)),
      [],
    );
    assert.deepEqual(await heads.listForJob(id), []);
    assert.equal(await oplogStore.latestOplogTs(id, `${id}-s1`), undefined);
    assert.equal(await oplogStore.latestOplogTs(id, `${id}-s2`), undefined);
    assert.ok(!(await getJson<AgentJob[]>(api('/agent/jobs'), serviceToken())).body.some((j) => j.id === id));
  });

  it('resyncs with a reason, also while the initial sync runs (agent restarted mid-transfer)', async () => {
    const { id } = await createJob();
    await postJson(api(`/jobs/${id}/start`));
    const res = await postJson<JobView>(api(`/jobs/${id}/resync`), {
      reason: 'agent restarted during transfer',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.syncId, `${id}-s2`);
    const resync = await commandFor(id, 'RESYNC');
    assert.equal(resync.params['reason'], 'agent restarted during transfer');
    assert.equal((await postJson(api(`/jobs/${id}/resync`), { reason: 42 })).status, 400);
  });

  it('answers bad input with 400 and every reason, unknown jobs and actions with 404', async () => {
    const creds = await postJson<{ message: string }>(api('/jobs'), {
      project: 'p',
      source: { uri: 'mongodb://alice:pw@h:1/' },
    });
    assert.equal(creds.status, 400);
    assert.match(creds.body.message, /TIDEMARK_SOURCE_USERNAME and TIDEMARK_SOURCE_PASSWORD/);
    const bad = await postJson<{ problems: string[] }>(api('/jobs'), {
      source: { uri: 'http://x' },
      include: ['local'],
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.problems, ['project is required (a string)']);
    const filters = await postJson<{ problems: string[] }>(api('/jobs'), {
      project: 'p',
      source: { uri: 'mongodb://h/' },
      include: ['local', 'a.'],
    });
    assert.equal(filters.status, 400);
    assert.equal(filters.body.problems.length, 2);
    assert.equal((await postJson(api('/jobs/nosuchjb/start'))).status, 404);
    const { id } = await createJob();
    assert.equal((await postJson(api(`/jobs/${id}/explode`))).status, 404);
  });

  it('CLI: project create/list/show/delete and key create/list/revoke, --json; no key is an error before any request', async () => {
    const json = async <T>(...args: string[]): Promise<T> => {
      const r = await cli(...args, '--json');
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    assert.equal((await json<{ name: string }>('project', 'create', 'cli')).name, 'cli');
    assert.equal((await json<{ name: string }>('project', 'create', 'cli-spare')).name, 'cli-spare');
    const listed = await json<{ name: string }[]>('project', 'list');
    assert.ok(['cli', 'cli-spare', 'shop'].every((n) => listed.some((p) => p.name === n)));
    assert.equal((await json<{ name: string }>('project', 'show', 'cli')).name, 'cli');
    const dup = await cli('project', 'create', 'cli');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /409 Conflict: project cli exists already/);

    const key = await json<{ id: string; key: string; grants: Record<string, string> }>(
      'key',
      'create',
      '--grant',
      'cli=owner',
      '--grant',
      'cli-spare=viewer',
    );
    assert.match(key.key, /^tmk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(key.grants, { cli: 'owner', 'cli-spare': 'viewer' });
    const asKey = { TIDEMARK_API_KEY: key.key };
    const mine = await cliWith(asKey, 'project', 'list', '--json');
    assert.deepEqual(
      (JSON.parse(mine.stdout) as { name: string }[]).map((p) => p.name),
      ['cli', 'cli-spare'],
    );
    const hidden = await cliWith(asKey, 'project', 'show', 'shop');
    assert.equal(hidden.code, 1);
    assert.match(hidden.stderr, /404 Not Found: project shop not found/);
    const notOwner = await cliWith(asKey, 'key', 'create', '--grant', 'cli-spare=viewer');
    assert.match(notOwner.stderr, /403 Forbidden: this needs the role owner on project cli-spare/);
    const keys = await json<{ id: string; key?: string; grants: object }[]>('key', 'list');
    const row = keys.find((k) => k.id === key.id);
    assert.deepEqual(row?.grants, { cli: 'owner', 'cli-spare': 'viewer' });
    assert.ok(
      keys.every((k) => k.key === undefined),
      'a listed key never carries its secret',
    );
    assert.ok(!(await cli('key', 'list')).stdout.includes(key.key.slice(17)));
    assert.match((await cli('key', 'revoke', key.id)).stdout, new RegExp(`${key.id}: revoked at `));
    const revoked = await cliWith(asKey, 'project', 'list');
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /401 Unauthorized: API key [0-9a-f]{12} is revoked/);
    assert.match((await cli('project', 'delete', 'cli-spare')).stdout, /cli-spare: deleted/);

    const none = await cliWith(
      { TIDEMARK_API_KEY: undefined, TIDEMARK_API_KEY_FILE: undefined, NODE_TEST_CONTEXT: undefined },
      'job',
      'list',
    );
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no API key: set TIDEMARK_API_KEY or TIDEMARK_API_KEY_FILE/);
    const badGrant = await cli('key', 'create', '--grant', 'cli=admin');
    assert.equal(badGrant.code, 2);
    assert.match(badGrant.stderr, /the role must be one of viewer, operator, owner/);
  });

  it('changes the read limit with PATCH /jobs/:id/settings in any state; bad settings are 400, unknown jobs 404', async () => {
    const patch = <T>(route: string, body: unknown) => apiRequest<T>('PATCH', api(route), { body });
    const created = await createJob({ readLimit: 5 });
    assert.equal(created.readLimit, 5);
    const started = await postJson<JobView>(api(`/jobs/${created.id}/start`));
    assert.equal(started.status, 200);
    const raised = await patch<JobView>(`/jobs/${created.id}/settings`, { readLimit: 50 });
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    assert.equal(raised.body.readLimit, 50);
    assert.equal(raised.body.state, 'initial-sync');
    const serviceToken = testCredentialEnv()['TIDEMARK_SERVICE_TOKEN']!;
    const served = (await getJson<AgentJob[]>(api('/agent/jobs'), serviceToken)).body.find(
      (j) => j.id === created.id,
    );
    assert.equal(served?.readLimit, 50, 'the agent reads the new limit');
    assert.equal((await getJson<JobStatus>(api(`/jobs/${created.id}/status`))).body.readLimit, 50);
    const bad = await patch<{ problems: string[] }>(`/jobs/${created.id}/settings`, {
      readLimit: -1,
      readlimit: 5,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.problems.length, 2);
    assert.equal((await patch(`/jobs/${created.id}/settings`, { readLimit: '5MB/s' })).status, 400);
    assert.equal((await patch(`/jobs/${created.id}/settings`, {})).status, 400);
    assert.equal((await patch('/jobs/nosuchjb/settings', { readLimit: 1 })).status, 404);
    const removed = await patch<JobView>(`/jobs/${created.id}/settings`, { readLimit: null });
    assert.equal(removed.body.readLimit, null);
    const zero = await postJson<{ problems: string[] }>(api('/jobs'), {
      project: 'shop',
      source: { uri: 'mongodb://h/' },
      readLimit: 0,
    });
    assert.equal(zero.status, 400);
    assert.match(zero.body.problems[0]!, /readLimit must be greater than 0/);

    // The CLI: --read-limit on create, job set, and a refused unit.
    const viaCli = await cli(
      'job',
      'create',
      '--project',
      'cli',
      '--source',
      endpoints.source.uri,
      '--read-limit',
      '500kB/s',
      '--json',
    );
    assert.equal(viaCli.code, 0, viaCli.stderr);
    const capped = JSON.parse(viaCli.stdout) as JobView;
    assert.equal(capped.readLimit, 0.5);
    const set = await cli('job', 'set', capped.id, '--read-limit', '2GB/s');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /reads at most 2000 MB\/s/);
    const cleared = await cli('job', 'set', capped.id, '--read-limit', 'none', '--json');
    assert.equal((JSON.parse(cleared.stdout) as JobView).readLimit, null);
    const binary = await cli('job', 'set', capped.id, '--read-limit', '5MiB/s');
    assert.equal(binary.code, 2);
    assert.match(binary.stderr, /--read-limit "5MiB\/s" is not a read limit/);
    assert.equal((await cli('job', 'set', capped.id)).code, 2);
  });

  it('CLI: job create/status --json, the human status, and job wait (state, --lag-zero, timeout, blocked)', async () => {
    const created = await cli(
      'job',
      'create',
      '--project',
      'cli',
      '--source',
      endpoints.source.uri,
      '--include',
      sourceDb,
      '--exclude',
      `${sourceDb}.tmp`,
      '--json',
    );
    assert.equal(created.code, 0, created.stderr);
    const job = JSON.parse(created.stdout) as JobView;
    assert.equal(job.state, 'inactive');
    assert.deepEqual(job.filters, { include: [sourceDb], exclude: [`${sourceDb}.tmp`] });
    assert.deepEqual(job.snapshotStore, { kind: 'blockstore' });
    assert.equal(job.schedule.intervalMinutes, 360);

    const withStore = await cli(
      'job',
      'create',
      '--project',
      'cli',
      '--source',
      endpoints.source.uri,
      '--store',
      'filesystem',
      '--store-path',
      'snaps',
      '--snapshot-interval',
      '15m',
      '--retention',
      'base=1d,daily=3',
      '--encryption-key-file',
      '/run/keys/k',
      '--json',
    );
    assert.equal(withStore.code, 0, withStore.stderr);
    const stored = JSON.parse(withStore.stdout) as JobView;
    assert.deepEqual(stored.snapshotStore, {
      kind: 'filesystem',
      path: path.resolve('snaps'),
      encryptionKeyFile: '/run/keys/k',
    });
    assert.deepEqual(stored.schedule, {
      intervalMinutes: 15,
      retention: { baseMinutes: 1440, daily: 3, weekly: 4, monthly: 12 },
      pointInTimeWindowHours: 24,
    });
    const badInterval = await cli(
      'job',
      'create',
      '--project',
      'cli',
      '--source',
      endpoints.source.uri,
      '--snapshot-interval',
      '6',
    );
    assert.equal(badInterval.code, 2);
    assert.match(badInterval.stderr, /--snapshot-interval "6" is not a duration/);
    const noPath = await cli(
      'job',
      'create',
      '--project',
      'cli',
      '--source',
      endpoints.source.uri,
      '--store',
      'filesystem',
    );
    assert.equal(noPath.code, 1);
    assert.match(noPath.stderr, /snapshotStore\.path must be an absolute path/);

    const early = await cli('job', 'status', job.id, '--json');
    assert.equal(early.code, 0, early.stderr);
    assert.equal((JSON.parse(early.stdout) as JobStatus).state, 'inactive');

    const notYet = await cli('job', 'wait', job.id, '--state', 'active', '--timeout', '1');
    assert.equal(notYet.code, 1);
    assert.match(notYet.stderr, /timed out after 1 s waiting for job \w+ to be active/);

    assert.equal((await cli('job', 'start', job.id)).code, 0);
    const sync = `${job.id}-s1`;
    await heads.recordScanCatalog(job.id, sync, 1, {
      startTs: { t: 100, i: 0 },
      endTs: { t: 120, i: 0 },
      namespaces: [
        {
          ns: `${sourceDb}.marks`,
          headNs: headNamespace(job.id, 1, `${sourceDb}.marks`),
          sliceCount: 1,
          docCount: 1,
        },
      ],
    });
    await runSync(job.id, sync);
    await waitForStatus(job.id, (v) => v.state === 'active');

    const human = await cli('job', 'status', job.id);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /state\s+active/);
    assert.match(human.stdout, /phase\s+complete\s+\[#+\]\s+100\.0%/);
    assert.match(human.stdout, /applied\s+100:0 \(1970-01-01 00:01:40 UTC\)/);
    assert.match(human.stdout, new RegExp(`${sourceDb}\\.marks -> th_${job.id}_1_${sourceDb}\\.marks`));
    const statusJson = JSON.parse((await cli('job', 'status', job.id, '--json')).stdout) as JobStatus;
    assert.equal(statusJson.appliedOpTime, '100:0');

    // The head is far behind the source's newest oplog entry: --lag-zero times out with the reason.
    const behind = await cli('job', 'wait', job.id, '--state', 'active', '--timeout', '2', '--lag-zero');
    assert.equal(behind.code, 1);
    assert.match(behind.stderr, /the source's newest oplog entry is \d+:\d+/);
    assert.match(behind.stderr, /timed out after 2 s waiting for job \w+ to be active with \d+:\d+ applied/);

    // Applied past everything the source holds: --lag-zero succeeds.
    await heads.setAppliedTs(job.id, sync, { t: 4_000_000_000, i: 0 });
    const caughtUp = await cli('job', 'wait', job.id, '--state', 'active', '--timeout', '30', '--lag-zero');
    assert.equal(caughtUp.code, 0, caughtUp.stderr);
    assert.match(caughtUp.stdout, /job \w+ is active, applied 4000000000:0 >= source \d+:\d+/);

    const listed = await cli('job', 'list');
    assert.match(listed.stdout, new RegExp(`${job.id}\\s+cli\\s+active\\s+complete`));

    await publish(producer, topics.alerts, {
      alertId: `SLICE_REJECTED:cli:${suffix}`,
      jobId: job.id,
      severity: 'CRITICAL',
      code: 'SLICE_REJECTED',
      message: 'slice rejected: checksum mismatch',
      context: { syncId: sync },
      at: new Date(),
      state: null,
      subject: null,
      closedAt: null,
      closeReason: null,
    });
    await waitForStatus(job.id, (v) => v.blocked !== null);
    const blocked = await cli('job', 'wait', job.id, '--timeout', '30');
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /job \w+ is blocked: SLICE_REJECTED: slice rejected: checksum mismatch/);
    assert.match((await cli('job', 'status', job.id)).stdout, /BLOCKED\s+SLICE_REJECTED/);

    const refused = await cli('job', 'create', '--project', 'cli', '--source', 'mongodb://u:p@h/');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /400 Bad Request: invalid job: source.uri must not contain credentials/);
    assert.equal((await cli('job', 'frobnicate')).code, 2);
    const busy = await cli('project', 'delete', 'cli');
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /409 Conflict: project cli still holds \d+ jobs?/);
  });
});
