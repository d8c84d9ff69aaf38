/**
 * `RestoreRecord` against job-state's real restore logic in memory (`RestoreService` over the in-memory catalogs,
 * behind the same API methods the CLI calls): registration, progress on beats, a user's cancel aborting the signal,
 * and the finish of each kind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { opTime, parseOpTime, type RestoreEvent } from '@tidemark/domain';
import {
  MemoryJobRepository,
  MemoryRestoreCatalog,
  MemorySnapshotCatalog,
  newJobRecord,
  parseBeginRestoreRequest,
  parseFinishRestoreRequest,
  parseRestoreProgressRequest,
  requestedEntry,
  RestoreService,
  restoreView,
} from '@tidemark/jobs';
import { RestoreCancelledError, RestoreFailedError, type RestoreProgress } from '@tidemark/restore';
import { RestoreRecord, type RestoreRecordApi } from './restore-record';

const JOB = 'job00001';
const SNAP = `${JOB}-20261203T090000Z-q1w2`;

async function jobState(options: { abandonAfterMs?: number } = {}) {
  const jobs = new MemoryJobRepository();
  await jobs.insert(
    newJobRecord({ project: 'p', sourceUri: 'mongodb://src/', include: [], exclude: [] }, JOB, new Date()),
  );
  const snapshots = new MemorySnapshotCatalog();
  await snapshots.put({
    ...requestedEntry(JOB, SNAP, 'blockstore', new Date()),
    state: 'complete',
    opTime: opTime(1_700_000_000, 2),
  });
  const events: RestoreEvent[] = [];
  const service = new RestoreService({
    jobs,
    snapshots,
    restores: new MemoryRestoreCatalog(),
    events: { publish: async (e) => void events.push(e) },
    progressEventIntervalMs: 0,
    ...options,
  });
  let down = false;
  const guard = () => {
    if (down) throw new Error('connect ECONNREFUSED');
  };
  // The API as the controller serves it: the same parsing, the same service calls, the same views.
  const api: RestoreRecordApi = {
    beginRestore: async (b) => (guard(), restoreView(await service.begin(parseBeginRestoreRequest(b)))),
    reportRestoreProgress: async (id, p) => (
      guard(),
      restoreView(await service.progress(id, parseRestoreProgressRequest(p)))
    ),
    finishRestore: async (id, f) => (
      guard(),
      restoreView(await service.finish(id, parseFinishRestoreRequest(f)))
    ),
    getRestore: async (id) => (guard(), restoreView(await service.get(id))),
  };
  return { service, events, api, setDown: (v: boolean) => (down = v) };
}

const request = {
  snapshotId: SNAP,
  target: 'mongodb://t/',
  include: [],
  exclude: [],
  renames: [],
  drop: false,
};
const progress = (documents: number, done = false): RestoreProgress => ({
  documents,
  bytes: documents * 10,
  entries: 0,
  namespaces: { 'app.users': { documents, bytes: documents * 10, done } },
});
const written = { documents: 4, entries: 0, namespaces: { 'app.users': 4 }, finished: [] };

describe('RestoreRecord (the CLI side of a recorded restore)', () => {
  it('reports new progress on its beat, aborts when a user asks to cancel, and finishes cancelled', async () => {
    const { service, events, api } = await jobState();
    const warnings: string[] = [];
    const record = await RestoreRecord.begin(api, request, { intervalMs: 20, warn: (l) => warnings.push(l) });
    assert.equal((await service.get(record.id)).state, 'running');
    record.onProgress(progress(4));
    await sleep(80);
    assert.equal((await service.get(record.id)).progress.documents, 4);
    assert.equal(record.signal.aborted, false);
    await service.requestCancel(record.id);
    await sleep(80);
    assert.equal(record.signal.aborted, true, 'the cancel request aborts the run');
    const ended = await record.finish({ error: new RestoreCancelledError(written) });
    assert.equal(ended?.state, 'cancelled');
    assert.match(ended?.reason ?? '', /restore cancelled\. 4 documents written/);
    assert.deepEqual(
      events.map((e) => e.event),
      ['started', 'progressed', 'cancel-requested', 'cancelled'],
    );
    assert.ok(warnings.some((w) => /cancel requested/.test(w)));
  });

  it('finishes complete with the outcome (snapshot, position, every namespace done)', async () => {
    const { service, api } = await jobState();
    const record = await RestoreRecord.begin(api, request, { intervalMs: 20, warn: () => {} });
    record.onProgress(progress(2));
    await sleep(60);
    const ended = await record.finish({
      end: {
        snapshotId: SNAP,
        at: { opTime: '1700000000:2', wallTime: null },
        namespaces: { 'app.users': { documents: 5, bytes: 50 } },
        documents: 5,
        bytes: 50,
        entries: 0,
      },
    });
    assert.equal(ended?.state, 'complete');
    const stored = await service.get(record.id);
    assert.deepEqual(stored.progress.namespaces, { 'app.users': { documents: 5, done: true } });
    assert.deepEqual(stored.at?.opTime, parseOpTime('1700000000:2'));
  });

  it('goes on when job-state misses beats (one warning), and records a failure with its reason', async () => {
    const { service, api, setDown } = await jobState();
    const warnings: string[] = [];
    const record = await RestoreRecord.begin(api, request, { intervalMs: 20, warn: (l) => warnings.push(l) });
    setDown(true);
    record.onProgress(progress(1));
    await sleep(100);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /did not take a progress report .* the restore goes on/);
    setDown(false);
    record.onProgress(progress(3));
    const ended = await record.finish({
      error: new RestoreFailedError(written, new Error('E11000 duplicate key')),
    });
    assert.equal(ended?.state, 'failed');
    assert.match(ended?.reason ?? '', /E11000 duplicate key/);
    assert.equal((await service.get(record.id)).progress.documents, 3);
  });

  it('a registration job-state refuses throws before anything is written', async () => {
    const { api, setDown } = await jobState();
    await assert.rejects(
      RestoreRecord.begin(api, { ...request, snapshotId: `${JOB}-20261203T080000Z-none` }),
      /not found/,
    );
    setDown(true);
    await assert.rejects(RestoreRecord.begin(api, request), /ECONNREFUSED/);
  });

  it('reports unchanged progress on a heartbeat, so job-state never takes a live restore for abandoned', async () => {
    const { service, api } = await jobState({ abandonAfterMs: 150 });
    const record = await RestoreRecord.begin(api, request, {
      intervalMs: 20,
      heartbeatMs: 50,
      warn: () => {},
    });
    record.onProgress(progress(2));
    await sleep(400);
    assert.deepEqual(await service.reapAbandoned(), []);
    assert.equal((await service.get(record.id)).state, 'running');
    assert.equal(record.signal.aborted, false);
    await record.finish({ error: new RestoreCancelledError(written) });
  });

  it('a restore cut off past the abandon time is recorded failed; back in touch, the CLI stops and says so', async () => {
    const { service, events, api, setDown } = await jobState({ abandonAfterMs: 150 });
    const warnings: string[] = [];
    const record = await RestoreRecord.begin(api, request, {
      intervalMs: 20,
      heartbeatMs: 50,
      warn: (l) => warnings.push(l),
    });
    record.onProgress(progress(2));
    await sleep(60);
    setDown(true);
    await sleep(300);
    const [ended] = await service.reapAbandoned();
    assert.equal(ended?.restoreId, record.id);
    assert.equal(ended?.state, 'failed');
    assert.equal(record.signal.aborted, false, 'still cut off: the CLI does not know yet');
    setDown(false);
    await sleep(100);
    assert.equal(record.signal.aborted, true, 'back in touch: it stops');
    assert.equal(record.abandoned, true);
    assert.ok(
      warnings.some((w) => /job-state recorded it failed \(no word from the restoring process/.test(w)),
    );
    const view = await record.finish({ error: new RestoreCancelledError(written) });
    assert.equal(view?.state, 'failed', 'the finish returns the record as job-state has it');
    assert.deepEqual(
      events.map((e) => e.event),
      ['started', 'progressed', 'failed'],
      'no cancelled event: the CLI does not try to finish what job-state ended',
    );
  });
});
