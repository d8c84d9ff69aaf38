/**
 * End to end: every row of the job state table (docs/vocabulary.md, "Job states"), allowed and refused, through
 * job-state's REST API, with all six services running over a real source, and what the stages do in each state
 * checked where the data is:
 *
 * - inactive: only `start`; every other action is a 409 naming the state and the actions it allows.
 * - initial-sync -> active: the head database holds the source; snapshots are taken (on the schedule and on demand).
 * - active -> `stop` -> stopped: writes made on the source after the stop reach neither the head database nor the
 *   applied position; the snapshots are kept; one asked for is refused (409); and with every snapshot deleted (so an
 *   active job's schedule would be due at once, as it was when the job became active) none is taken.
 * - stopped -> `restart`: a fresh initial sync (a new sync number and head database) that holds the writes made while
 *   stopped; the old head database is dropped; the schedule takes a snapshot again.
 * - stopped -> `terminate` twice at once: one wins, one gets 409, and the winner's answer says what it deletes (as
 *   `GET /jobs/:id/retained` showed before); then the job is inactive and the stores hold nothing of it: no snapshot
 *   (store and catalog), no stored oplog slice, no head database.
 *
 * The expected actions per state are written here from the design's table, not read from the code under test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { createSnapshotStore } from '@tidemark/snapshot-stores';
import type { SnapshotStore } from '@tidemark/snapshots';
import { apiRequest, loadedTestSource, seedSource, ServiceStack, type TestSource } from '@tidemark/testing';
import { JobApi, suffix, waitUntil, type JobStatus } from './helpers';

const USER_ACTIONS = ['start', 'stop', 'restart', 'terminate', 'resync'] as const;
type UserAction = (typeof USER_ACTIONS)[number];

/** The design's table (../shared/design.md), plus `resync` during an initial sync (docs/api.md). */
const ALLOWED: Record<string, readonly UserAction[]> = {
  inactive: ['start'],
  'initial-sync': ['stop', 'resync'],
  active: ['stop', 'resync'],
  stopped: ['restart', 'terminate'],
};

/** How often the snapshotter checks every job's schedule. */
const TICK_MS = 1_000;

interface JobView {
  id: string;
  state: string;
  syncNo: number;
  allowedActions: string[];
  pendingEffects: boolean;
}

interface Retained {
  jobId: string;
  snapshots: { count: number; logicalBytes: string; storedBytes: string };
  oplogSlices: { count: number; bytes: string };
  headDatabases: string[];
}

interface SnapshotView {
  id: string;
  state: string;
}

describe('the job state table through the API, with the stages checked in each state (all six services)', () => {
  let source: TestSource;
  let stack: ServiceStack;
  let backup: MongoClient;
  let dir: string;
  let store: SnapshotStore | undefined;
  const s = suffix();
  const db = `e2est${s}_app`;
  const ns = `${db}.items`;
  const snapshotDb = `e2e_stsnap_${s}`;
  const env = {
    TIDEMARK_TOPIC_PREFIX: `e2e-states-${s}`,
    TIDEMARK_META_DB: `e2e_meta_st_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_st_${s}`,
    TIDEMARK_SNAPSHOT_DB: snapshotDb,
    TIDEMARK_SNAPSHOT_TICK_MS: String(TICK_MS),
    TIDEMARK_SLICE_TARGET_BYTES: String(256 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '500',
    TIDEMARK_APPLY_LEASE_MS: '4000',
    TIDEMARK_EFFECTS_FLUSH_MS: '500',
  };
  let jobId = '';

  before(async () => {
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-e2e-states-'));
    source = await loadedTestSource({
      name: 'e2e-states',
      oplogBytes: 8 * 1024 * 1024,
      load: (client) => seedSource(client, { collections: { [ns]: 300 } }),
    });
    stack = new ServiceStack(env, `states-${s}`);
    await stack.startAll();
  });

  after(async () => {
    await stack?.stopAll();
    if (jobId !== '') await store?.deleteJob(jobId).catch(() => undefined);
    await source?.client.db(db).dropDatabase();
    await source?.stop();
    const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) {
      const mine =
        [env.TIDEMARK_META_DB, env.TIDEMARK_OPLOG_STORE_DB, snapshotDb].includes(d.name) ||
        (jobId !== '' && d.name.startsWith(`th_${jobId}_`));
      if (mine) await backup.db(d.name).dropDatabase();
    }
    await backup?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every action in every state: the allowed ones do what the table says, the others are 409 and change nothing', async () => {
    const api = new JobApi(stack.apiUrl);
    const call = <T>(method: string, p: string, body?: unknown) =>
      apiRequest<T>(method, `${stack.apiUrl}${p}`, { body, timeoutMs: 30_000 });
    const job = () => api.call<JobView>('GET', `/api/v1/jobs/${jobId}`);
    const status = () => api.call<JobStatus & { syncNo: number }>('GET', `/api/v1/jobs/${jobId}/status`);
    const snapshots = () => api.call<SnapshotView[]>('GET', `/api/v1/jobs/${jobId}/snapshots`);
    const act = async (action: UserAction) => {
      const res = await call<JobView>('POST', `/api/v1/jobs/${jobId}/${action}`);
      assert.equal(res.status, 200, `${action}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    /** Every action the table does not allow in `state` is refused with the state and the allowed actions. */
    const refusesTheRest = async (state: string) => {
      const before = await job();
      assert.equal(before.state, state);
      assert.deepEqual(
        [...before.allowedActions].sort(),
        [...ALLOWED[state]!].sort(),
        `allowedActions in ${state}`,
      );
      for (const action of USER_ACTIONS.filter((a) => !ALLOWED[state]!.includes(a))) {
        const res = await call<{ message: string; state: string; allowedActions: string[] }>(
          'POST',
          `/api/v1/jobs/${jobId}/${action}`,
        );
        assert.equal(res.status, 409, `${action} in ${state}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.state, state, `${action} in ${state}: ${JSON.stringify(res.body)}`);
        assert.deepEqual([...res.body.allowedActions].sort(), [...ALLOWED[state]!].sort());
        assert.match(res.body.message, new RegExp(`"${action}" is not allowed in state "${state}"`));
      }
      const afterwards = await job();
      assert.equal(afterwards.state, state, 'a refused action changed the state');
      assert.equal(afterwards.syncNo, before.syncNo, 'a refused action began a sync');
    };
    const waitActive = (what: string) =>
      waitUntil(what, 240_000, async () => {
        const st = await status();
        if (st.blocked) throw new Error(`job blocked: ${JSON.stringify(st.blocked)}`);
        return st.state === 'active';
      });
    /** The head database's collection for `ns` in the current sync. */
    const headCollection = async () => {
      const headNs = (await status()).head.namespaces[ns];
      assert.ok(headNs, `no head namespace for ${ns}`);
      const dot = headNs.indexOf('.');
      return backup.db(headNs.slice(0, dot)).collection(headNs.slice(dot + 1));
    };
    const inHead = async (id: string) =>
      (await (await headCollection()).countDocuments({ _id: id as never })) === 1;
    const items = source.client.db(db).collection<{ _id: string; v: number }>('items');

    await api.ensureProject('e2e');
    const created = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project: 'e2e',
      source: { uri: source.uri },
      include: [db],
      snapshotStore: { kind: 'filesystem', path: path.join(dir, 'fs') },
    });
    jobId = created.id;
    store = await createSnapshotStore('filesystem', { filesystem: { root: path.join(dir, 'fs') } });

    // inactive: only start.
    await refusesTheRest('inactive');
    const t0 = Date.now();
    const started = await act('start');
    assert.equal(started.state, 'initial-sync');
    assert.equal(started.syncNo, 1);
    // initial-sync: start, restart and terminate are refused (the sync may already have completed on a fast
    // machine: then the answer names `active`, whose allowed actions are the same).
    for (const action of ['start', 'restart', 'terminate'] as const) {
      const res = await call<{ state: string; allowedActions: string[] }>(
        'POST',
        `/api/v1/jobs/${jobId}/${action}`,
      );
      assert.equal(res.status, 409, `${action} during the initial sync: ${JSON.stringify(res.body)}`);
      assert.ok(['initial-sync', 'active'].includes(res.body.state), JSON.stringify(res.body));
      assert.deepEqual([...res.body.allowedActions].sort(), [...ALLOWED[res.body.state]!].sort());
    }
    await waitActive('the first initial sync');
    console.log(`active after ${Date.now() - t0} ms`);
    await refusesTheRest('active');

    // active: oplog is applied, and snapshots are taken: the schedule's first at once (the job has none), then one
    // on demand.
    await items.insertOne({ _id: 'while-active', v: 1 });
    await waitUntil('the write made while active in the head', 120_000, () => inHead('while-active'));
    await waitUntil('the scheduled snapshot of an active job without one', 120_000, async () =>
      (await snapshots()).some((x) => x.state === 'complete'),
    );
    const onDemand = await call<SnapshotView>('POST', `/api/v1/jobs/${jobId}/snapshots`);
    assert.equal(onDemand.status, 202, JSON.stringify(onDemand.body));
    await waitUntil('the snapshot asked for', 180_000, async () =>
      (await snapshots()).some((x) => x.id === onDemand.body.id && x.state === 'complete'),
    );

    // stop: no applied oplog, no snapshot (scheduled or asked for) while stopped; the snapshots are kept.
    const stopped = await act('stop');
    assert.equal(stopped.state, 'stopped');
    const appliedAtStop = (await status()).appliedOpTime;
    const kept = (await snapshots()).filter((x) => x.state === 'complete').map((x) => x.id);
    assert.equal(kept.length, 2, `snapshots when stopped: ${JSON.stringify(await snapshots())}`);
    await refusesTheRest('stopped');
    await items.insertOne({ _id: 'while-stopped', v: 1 });
    await items.updateOne({ _id: 'while-active' }, { $set: { v: 2 } });
    const refused = await call<{ state: string }>('POST', `/api/v1/jobs/${jobId}/snapshots`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.state, 'stopped');
    const stoppedFor = async (ms: number, snapshotIds: string[]) => {
      const from = Date.now();
      while (Date.now() - from < ms) {
        await sleep(2_000);
        assert.equal((await status()).appliedOpTime, appliedAtStop, 'oplog was applied while stopped');
        assert.equal(await inHead('while-stopped'), false, 'a write made while stopped reached the head');
        const now = (await snapshots()).filter((x) => x.state !== 'deleted').map((x) => x.id);
        assert.deepEqual(now.sort(), [...snapshotIds].sort(), 'the snapshots changed while stopped');
      }
    };
    await stoppedFor(10_000, kept);
    // With no snapshot left, an active job's schedule is due at once (as above); a stopped job's is not.
    for (const id of kept) {
      const res = await call('DELETE', `/api/v1/snapshots/${encodeURIComponent(id)}`);
      assert.equal(res.status, 202, `delete ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await waitUntil('the stopped job’s snapshots deleted', 120_000, async () => {
      const list = await snapshots();
      return kept.every((id) => list.some((x) => x.id === id && x.state === 'deleted'));
    });
    await stoppedFor(10 * TICK_MS + 5_000, []);
    assert.deepEqual(await store!.listSnapshots(jobId), [], 'the store holds snapshots of the stopped job');
    assert.equal((await (await headCollection()).findOne({ _id: 'while-active' as never }))?.['v'], 1);

    // restart: a fresh initial sync with what was written while stopped; the schedule runs again.
    const firstHead = (await headCollection()).dbName;
    const restarted = await act('restart');
    assert.equal(restarted.state, 'initial-sync');
    assert.equal(restarted.syncNo, 2, 'restart begins a new sync');
    await waitActive('the initial sync after restart');
    await refusesTheRest('active');
    assert.notEqual((await headCollection()).dbName, firstHead, 'the restart reused the head database');
    assert.equal(await inHead('while-stopped'), true, 'the fresh sync lacks the write made while stopped');
    assert.equal((await (await headCollection()).findOne({ _id: 'while-active' as never }))?.['v'], 2);
    await waitUntil('the first sync’s head database dropped', 120_000, async () => {
      const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
      return !databases.some((d) => d.name === firstHead);
    });
    await waitUntil('a scheduled snapshot after the restart', 120_000, async () =>
      (await snapshots()).some((x) => x.state === 'complete'),
    );

    // stop, then terminate twice at once: one wins, the other is refused; the stores hold nothing of the job.
    await act('stop');
    await refusesTheRest('stopped');
    // What terminate will delete, shown before: the snapshot, the current sync's slices and its head database.
    const retained = await api.call<Retained>('GET', `/api/v1/jobs/${jobId}/retained`);
    const currentHead = (await headCollection()).dbName;
    assert.equal(retained.snapshots.count, 1, JSON.stringify(retained));
    assert.ok(BigInt(retained.snapshots.storedBytes) > 0n, JSON.stringify(retained));
    assert.ok(
      retained.oplogSlices.count > 0 && BigInt(retained.oplogSlices.bytes) > 0n,
      JSON.stringify(retained),
    );
    assert.deepEqual(retained.headDatabases, [currentHead]);
    const both = await Promise.all([
      call<JobView & { deleting?: Retained }>('POST', `/api/v1/jobs/${jobId}/terminate`),
      call<JobView & { deleting?: Retained }>('POST', `/api/v1/jobs/${jobId}/terminate`),
    ]);
    assert.deepEqual(
      both.map((r) => r.status).sort(),
      [200, 409],
      `two terminates at once: ${JSON.stringify(both.map((r) => [r.status, r.body]))}`,
    );
    assert.deepEqual(
      both.find((r) => r.status === 200)!.body.deleting,
      retained,
      'terminate says what it deletes',
    );
    await waitUntil('terminate’s deletions done', 180_000, async () => !(await job()).pendingEffects);
    await refusesTheRest('inactive');
    await waitUntil('the snapshot store holds nothing of the job', 120_000, async () => {
      return (await store!.listSnapshots(jobId)).length === 0;
    });
    const fsLeft = await readdir(path.join(dir, 'fs'), { recursive: true }).catch(() => [] as string[]);
    assert.deepEqual(
      fsLeft.filter((f) => f.includes(jobId)),
      [],
      'files of the terminated job are left in the filesystem store',
    );
    const slicesLeft = await backup
      .db(env.TIDEMARK_OPLOG_STORE_DB)
      .collection('slices')
      .countDocuments({ jobId });
    assert.equal(slicesLeft, 0, 'stored slices of the terminated job are left in the oplog store');
    const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
    assert.deepEqual(
      databases.map((d) => d.name).filter((n) => n.startsWith(`th_${jobId}_`)),
      [],
      'a head database of the terminated job is left',
    );
    const catalog = (await snapshots()).filter((x) => x.state === 'complete');
    assert.deepEqual(catalog, [], 'the catalog still lists complete snapshots of the terminated job');
    assert.deepEqual(await api.call<Retained>('GET', `/api/v1/jobs/${jobId}/retained`), {
      jobId,
      snapshots: { count: 0, logicalBytes: '0', storedBytes: '0' },
      oplogSlices: { count: 0, bytes: '0' },
      headDatabases: [],
    });
  });
});
