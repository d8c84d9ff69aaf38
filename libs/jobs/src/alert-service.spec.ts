import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '@tidemark/domain';
import type { AlertThresholds } from './alert-lifecycle';
import { AlertService, type AlertEventPublisher } from './alert-service';
import { MemoryAlertStore } from './alert-store';
import { newJobRecord } from './create-job-input';
import { applyUserAction } from './job-actions';
import type { JobAlert, JobRecord } from './job-record';
import { MemoryBackupData } from './memory-backup-data';
import { MemoryJobRepository } from './memory-job-repository';
import { MemoryRestoreCatalog } from './memory-restore-catalog';
import { MemorySnapshotCatalog } from './memory-snapshot-catalog';
import { requestedEntry, type SnapshotEntry } from './snapshot-catalog';

const T: AlertThresholds = { oplogBehindMs: 60_000, lagHighSeconds: 30, stageIdleMs: 60_000 };

class RecordingPublisher implements AlertEventPublisher {
  readonly events: Alert[] = [];
  down = false;
  async raise(alert: Alert): Promise<void> {
    if (this.down) throw new Error('kafka is down');
    this.events.push(alert);
  }
  seen(): string[] {
    return this.events.map((e) => `${e.lifecycle?.state}:${e.code}:${e.alertId}`);
  }
}

function setup(clockStart = new Date('2026-03-01T12:00:00Z')) {
  let now = clockStart;
  const jobs = new MemoryJobRepository();
  const backupData = new MemoryBackupData();
  const snapshots = new MemorySnapshotCatalog();
  const restores = new MemoryRestoreCatalog();
  const store = new MemoryAlertStore();
  const events = new RecordingPublisher();
  let n = 0;
  const service = (publisher: AlertEventPublisher = events) =>
    new AlertService({
      store,
      events: publisher,
      jobs,
      backupData,
      snapshots,
      restores,
      thresholds: T,
      clock: () => now,
      newAlertId: () => `al-${++n}`,
    });
  const job = async (over: Partial<JobRecord> = {}): Promise<JobRecord> => {
    const created = newJobRecord(
      { project: 'shop', sourceUri: 'mongodb://s/', include: [], exclude: [] },
      'j1',
      now,
    );
    const started = applyUserAction(created, 'start', { now, messageId: () => 'm' });
    const record: JobRecord = { ...started, state: 'active', phase: 'complete', outbox: [], ...over };
    const existing = await jobs.get(record.id);
    if (existing === undefined) await jobs.insert(record);
    else await jobs.replace({ ...record, revision: existing.revision + 1 }, existing.revision);
    return record;
  };
  const snapshot = async (id: string, state: SnapshotEntry['state'], over: Partial<SnapshotEntry> = {}) =>
    snapshots.put({
      ...requestedEntry('j1', id, 'blockstore', now),
      state,
      takenAt: now,
      completedAt: now,
      reason: state === 'failed' ? 'fence busy' : undefined,
      ...over,
    });
  return {
    store,
    events,
    service,
    job,
    snapshot,
    backupData,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
    now: () => now,
  };
}

describe('AlertService', () => {
  it('SNAPSHOT_FAILED: opens once with an OPEN event, closes on a completed snapshot, re-opens as a new alert', async () => {
    const s = setup();
    const svc = s.service();
    await s.job();
    await s.snapshot('j1-s-1', 'failed');
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 1, closed: 0 });
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 0, closed: 0 }, 'stays open, not opened again');
    assert.deepEqual(s.events.seen(), ['open:SNAPSHOT_FAILED:al-1']);
    const [open] = await svc.list({ project: 'shop', state: 'open', limit: 10 });
    assert.equal(open?.message, 'snapshot j1-s-1 failed: fence busy');
    assert.deepEqual(open?.unpublished, [], 'the event went out and is marked published');

    s.advance(1000);
    await s.snapshot('j1-s-2', 'complete');
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 0, closed: 1 });
    const [closed] = await svc.list({ project: 'shop', state: 'closed', limit: 10 });
    assert.equal(closed?.closeReason, 'snapshot j1-s-2 completed');
    assert.equal(closed?.closedAt?.getTime(), s.now().getTime());
    const closedEvent = s.events.events.at(-1);
    assert.deepEqual(closedEvent?.lifecycle, {
      state: 'closed',
      subject: 'j1',
      closedAt: s.now(),
      closeReason: 'snapshot j1-s-2 completed',
    });
    assert.equal(closedEvent?.context['project'], 'shop');

    s.advance(1000);
    await s.snapshot('j1-s-3', 'failed');
    await svc.evaluateJob('j1');
    const all = await svc.list({ project: 'shop', limit: 10 });
    assert.deepEqual(
      all.map((a) => [a.alertId, a.state, a.generation]),
      [
        ['al-2', 'open', 2],
        ['al-1', 'closed', 1],
      ],
    );
    assert.deepEqual(s.events.seen(), [
      'open:SNAPSHOT_FAILED:al-1',
      'closed:SNAPSHOT_FAILED:al-1',
      'open:SNAPSHOT_FAILED:al-2',
    ]);
  });

  it('RESYNC_REQUIRED: opens under the stage alert id, closes when the job is resynced', async () => {
    const s = setup();
    const svc = s.service();
    const raised: JobAlert = {
      alertId: 'agent-gap-1',
      code: 'RESYNC_REQUIRED',
      severity: 'critical',
      message: 'backup requires a resync',
      context: {},
      at: s.now(),
      syncId: 'j1-s1',
    };
    const job = await s.job({ alerts: [raised] });
    assert.equal(job.syncId, 'j1-s1');
    await svc.evaluateJob('j1');
    assert.deepEqual(s.events.seen(), ['open:RESYNC_REQUIRED:agent-gap-1']);
    await s.job({ syncId: 'j1-s2', syncNo: 2, state: 'initial-sync', phase: 'starting', alerts: [] });
    await svc.evaluateJob('j1');
    const [a] = await svc.list({ jobId: 'j1', limit: 10 });
    assert.equal(a?.state, 'closed');
    assert.match(a?.closeReason ?? '', /sync j1-s1 ended: the job is in sync j1-s2 now/);
  });

  it('OPLOG_BEHIND: opens once the newest stored slice stayed newest for the window while the source wrote; closes when a slice is stored', async () => {
    const s = setup();
    const svc = s.service();
    s.backupData.addOplogSlice('j1', 'j1-s1', {
      firstTs: { t: 90, i: 0 },
      lastTs: { t: 100, i: 0 },
      entries: 3,
    });
    await s.job({ sourceTs: { t: 150, i: 0 } });
    await svc.evaluateJob('j1'); // first observation starts the clock
    s.advance(59_000);
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 0, closed: 0 });
    s.advance(1_000);
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 1, closed: 0 });
    s.backupData.addOplogSlice('j1', 'j1-s1', {
      firstTs: { t: 101, i: 0 },
      lastTs: { t: 150, i: 0 },
      entries: 5,
    });
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 0, closed: 1 });
    const [a] = await svc.list({ jobId: 'j1', limit: 1 });
    assert.equal(a?.closeReason, 'oplog stored up to 150:0');
  });

  it('a replica that started observing later does not close what another opened (OPLOG_BEHIND, STAGE_NOT_CONSUMING)', async () => {
    const s = setup();
    s.backupData.addOplogSlice('j1', 'j1-s1', {
      firstTs: { t: 90, i: 0 },
      lastTs: { t: 100, i: 0 },
      entries: 3,
    });
    await s.job({ sourceTs: { t: 150, i: 0 } });
    const [first, later] = [s.service(), s.service()];
    const reading = async () => [
      { stage: 'agent', group: 'g', topic: 't', partition: 0, committed: 5n, lag: 2n },
    ];
    await first.evaluateJob('j1');
    await first.evaluateStages(reading);
    s.advance(60_000);
    assert.deepEqual(await first.evaluateJob('j1'), { opened: 1, closed: 0 });
    assert.deepEqual(await first.evaluateStages(reading), { opened: 1, closed: 0 });
    // The other replica's clocks start now: its windows are not over, but nothing moved, so the alerts stay open.
    assert.deepEqual(await later.evaluateJob('j1'), { opened: 0, closed: 0 });
    assert.deepEqual(await later.evaluateStages(reading), { opened: 0, closed: 0 });
    // Once something moves, either replica closes.
    s.backupData.addOplogSlice('j1', 'j1-s1', {
      firstTs: { t: 101, i: 0 },
      lastTs: { t: 120, i: 0 },
      entries: 3,
    });
    assert.deepEqual(await later.evaluateJob('j1'), { opened: 0, closed: 1 });
    assert.deepEqual(
      await later.evaluateStages(async () => [
        { stage: 'agent', group: 'g', topic: 't', partition: 0, committed: 6n, lag: 1n },
      ]),
      { opened: 0, closed: 1 },
    );
  });

  it('LAG_HIGH from the applied position and the newest source position', async () => {
    const s = setup();
    const svc = s.service();
    s.backupData.setHead('j1', 'j1-s1', { appliedTs: { t: 100, i: 0 }, namespaces: [] });
    await s.job({ sourceTs: { t: 131, i: 0 } });
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 1, closed: 0 });
    s.backupData.setHead('j1', 'j1-s1', { appliedTs: { t: 130, i: 0 }, namespaces: [] });
    assert.deepEqual(await svc.evaluateJob('j1'), { opened: 0, closed: 1 });
  });

  it('two replicas evaluating at once open one alert', async () => {
    const s = setup();
    await s.job();
    await s.snapshot('j1-s-1', 'failed');
    const [a, b] = [s.service(), s.service()];
    const results = await Promise.all([a.evaluateJob('j1'), b.evaluateJob('j1'), a.evaluateJob('j1')]);
    assert.equal(
      results.reduce((n, r) => n + r.opened, 0),
      1,
    );
    assert.equal((await s.store.list({ jobId: 'j1', limit: 10 })).length, 1);
  });

  it('an event owed while Kafka is down is published later, in order (OPEN before CLOSED)', async () => {
    const s = setup();
    const svc = s.service();
    await s.job();
    await s.snapshot('j1-s-1', 'failed');
    s.events.down = true;
    await svc.evaluateJob('j1');
    s.advance(1000);
    await s.snapshot('j1-s-2', 'complete');
    await svc.evaluateJob('j1');
    const [a] = await s.store.list({ jobId: 'j1', limit: 1 });
    assert.deepEqual([a?.state, a?.unpublished], ['closed', ['open', 'closed']]);
    await assert.rejects(svc.flushUnpublished(), /kafka is down/);
    s.events.down = false;
    assert.equal(await svc.flushUnpublished(), 1);
    assert.deepEqual(s.events.seen(), ['open:SNAPSHOT_FAILED:al-1', 'closed:SNAPSHOT_FAILED:al-1']);
    assert.equal(await svc.flushUnpublished(), 0);
  });

  it('STAGE_NOT_CONSUMING about no job: listed in every project; closes when the group commits', async () => {
    const s = setup();
    const svc = s.service();
    await s.job();
    const reading = (committed: bigint, lag: bigint) => async () => [
      { stage: 'agent', group: 'tidemark-agent', topic: 'tidemark.commands', partition: 0, committed, lag },
    ];
    await svc.evaluateStages(reading(5n, 2n));
    s.advance(60_000);
    assert.deepEqual(await svc.evaluateStages(reading(5n, 2n)), { opened: 1, closed: 0 });
    const [a] = await svc.list({ project: 'shop', state: 'open', limit: 10 });
    assert.deepEqual([a?.code, a?.jobId, a?.project], ['STAGE_NOT_CONSUMING', null, null]);
    assert.deepEqual(await svc.evaluateStages(reading(7n, 0n)), { opened: 0, closed: 1 });
    assert.equal(
      (await svc.list({ state: 'closed', limit: 10 }))[0]?.closeReason,
      'the group read everything on tidemark.commands partition 0',
    );
  });

  it('prunes closed alerts past the retention, never open ones', async () => {
    const s = setup();
    const svc = s.service();
    await s.job();
    await s.snapshot('j1-s-1', 'failed');
    await svc.evaluateJob('j1');
    s.advance(1000);
    await s.snapshot('j1-s-2', 'complete');
    await svc.evaluateJob('j1');
    s.advance(1000);
    await s.snapshot('j1-s-3', 'failed');
    await svc.evaluateJob('j1');
    s.advance(10_000);
    assert.equal(await svc.pruneClosed(5_000), 1);
    assert.deepEqual(
      (await svc.list({ limit: 10 })).map((a) => a.state),
      ['open'],
    );
  });
});
