import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opTime, TidemarkError, type RestoreEvent, type RestoreEventPublisher } from '@tidemark/domain';
import { newJobRecord } from './create-job-input';
import { JobNotFoundError, SnapshotNotFoundError } from './job-errors';
import { MemoryJobRepository } from './memory-job-repository';
import { MemoryRestoreCatalog } from './memory-restore-catalog';
import { MemorySnapshotCatalog } from './memory-snapshot-catalog';
import { RestoreNotAllowedError, RestoreNotFoundError, RestoreValidationError } from './restore-catalog';
import { parseBeginRestoreRequest } from './restore-input';
import { RESTORE_ID, RestoreService } from './restore-service';
import { requestedEntry } from './snapshot-catalog';

const JOB = 'job00001';
const SNAP = `${JOB}-20261203T090000Z-q1w2`;
const FAILED_SNAP = `${JOB}-20261203T080000Z-f1f1`;

class RecordingPublisher implements RestoreEventPublisher {
  readonly events: RestoreEvent[] = [];
  failNext = false;
  /** Every publish fails while set (the bus is down). */
  down = false;
  async publish(event: RestoreEvent): Promise<void> {
    if (this.down) throw new Error('broker down');
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker down');
    }
    this.events.push(event);
  }
}

async function world() {
  let now = new Date('2026-12-03T10:00:00.000Z');
  const clock = () => now;
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  const jobs = new MemoryJobRepository();
  await jobs.insert(
    newJobRecord({ project: 'shop', sourceUri: 'mongodb://src:27017/', include: [], exclude: [] }, JOB, now),
  );
  const snapshots = new MemorySnapshotCatalog();
  await snapshots.put({
    ...requestedEntry(JOB, SNAP, 'blockstore', now),
    state: 'complete',
    opTime: opTime(1_700_000_000, 4),
    opWallTime: new Date('2023-11-14T22:13:20.000Z'),
  });
  await snapshots.put({ ...requestedEntry(JOB, FAILED_SNAP, 'blockstore', now), state: 'failed' });
  const events = new RecordingPublisher();
  const restores = new MemoryRestoreCatalog();
  const warnings: string[] = [];
  /** A job-state replica (or the same one after a restart) over the same catalog and bus. */
  const replica = () =>
    new RestoreService({
      jobs,
      snapshots,
      restores,
      events,
      clock,
      progressEventIntervalMs: 5_000,
      abandonAfterMs: 120_000,
      warn: (line) => warnings.push(line),
    });
  return { service: replica(), replica, restores, events, advance, warnings };
}

const begin = (body: Record<string, unknown>) =>
  parseBeginRestoreRequest({
    target: 'mongodb://admin:s3cret@target:27017/?authSource=admin&password=x',
    ...body,
  });
const progress = (documents: number, done = false) => ({
  documents,
  bytes: documents * 10,
  entries: 0,
  namespaces: { 'shop.orders': { documents, done } },
});

describe('RestoreService', () => {
  it('begins a snapshot restore: the snapshot’s job and position, the target without credentials, a STARTED event', async () => {
    const { service, events } = await world();
    const r = await service.begin(begin({ snapshotId: SNAP, include: ['shop'] }));
    assert.match(r.restoreId, RESTORE_ID);
    assert.equal(r.jobId, JOB);
    assert.equal(r.kind, 'snapshot');
    assert.deepEqual(r.at?.opTime, opTime(1_700_000_000, 4));
    assert.equal(r.target, 'mongodb://target:27017/?authSource=admin');
    assert.deepEqual(await service.get(r.restoreId), r);
    assert.equal(events.events.length, 1);
    assert.equal(events.events[0]!.event, 'started');
    assert.doesNotMatch(JSON.stringify(events.events), /s3cret|password/);
  });

  it('refuses an unknown or unfinished snapshot, an unknown job, and a snapshot of another job', async () => {
    const { service, events } = await world();
    await assert.rejects(
      service.begin(begin({ snapshotId: `${JOB}-20261203T070000Z-none` })),
      SnapshotNotFoundError,
    );
    await assert.rejects(service.begin(begin({ snapshotId: FAILED_SNAP })), (e: unknown) => {
      assert.ok(e instanceof RestoreNotAllowedError);
      assert.match(e.message, /is failed: only a complete snapshot can be restored/);
      return true;
    });
    await assert.rejects(
      service.begin(begin({ jobId: 'nojob001', point: '1700000000:9' })),
      JobNotFoundError,
    );
    await assert.rejects(
      service.begin(begin({ jobId: 'job00002', snapshotId: SNAP })),
      RestoreValidationError,
    );
    assert.equal(events.events.length, 0, 'nothing refused is published');
    assert.deepEqual(await service.list(), []);
  });

  it('progress is recorded every time, PROGRESSED published at most once per interval', async () => {
    const { service, events, advance } = await world();
    const r = await service.begin(begin({ jobId: JOB, point: '2026-12-03T09:30:00Z' }));
    assert.equal(r.kind, 'point-in-time');
    assert.equal(r.snapshotId, undefined);
    await service.progress(r.restoreId, progress(1));
    advance(1000);
    await service.progress(r.restoreId, progress(2));
    assert.equal((await service.get(r.restoreId)).progress.documents, 2);
    advance(4000);
    await service.progress(r.restoreId, progress(3));
    assert.deepEqual(
      events.events.map((e) => [e.event, e.documents]),
      [
        ['started', 0],
        ['progressed', 1],
        ['progressed', 3],
      ],
    );
    await assert.rejects(service.progress(r.restoreId, progress(2)), /progress never goes back/);
  });

  it('cancel: the flag, a CANCEL_REQUESTED event, then the CLI finishes it cancelled; finished restores refuse changes', async () => {
    const { service, events } = await world();
    const r = await service.begin(begin({ snapshotId: SNAP }));
    const c = await service.requestCancel(r.restoreId);
    assert.equal(c.cancelRequested, true);
    assert.equal(c.state, 'running');
    const done = await service.finish(r.restoreId, {
      state: 'cancelled',
      reason: 'restore cancelled. nothing written',
    });
    assert.equal(done.state, 'cancelled');
    assert.deepEqual(
      events.events.map((e) => e.event),
      ['started', 'cancel-requested', 'cancelled'],
    );
    await assert.rejects(
      service.requestCancel(r.restoreId),
      /is cancelled: a finished restore cannot be cancelled/,
    );
    await assert.rejects(service.finish(r.restoreId, { state: 'complete' }), RestoreNotAllowedError);
    const again = await service.finish(r.restoreId, { state: 'cancelled', reason: 'again' });
    assert.equal(again.reason, 'restore cancelled. nothing written', 'a repeated finish changes nothing');
    assert.equal(events.events.at(-1)!.event, 'cancelled', 'and publishes the event again');
  });

  it('lists newest first, per job; unknown ids are RestoreNotFoundError', async () => {
    const { service, advance } = await world();
    const a = await service.begin(begin({ snapshotId: SNAP }));
    advance(1000);
    const b = await service.begin(begin({ jobId: JOB, point: '1700000000:9' }));
    assert.deepEqual(
      (await service.list({ jobId: JOB })).map((e) => e.restoreId),
      [b.restoreId, a.restoreId],
    );
    await assert.rejects(service.list({ jobId: 'nojob001' }), JobNotFoundError);
    await assert.rejects(service.get('r-nojob001-20261203T100000Z-xxxx'), RestoreNotFoundError);
    await assert.rejects(
      service.progress('r-nojob001-20261203T100000Z-xxxx', progress(1)),
      RestoreNotFoundError,
    );
  });

  it('a STARTED event that cannot be published refuses the restore and records it failed', async () => {
    const { service, events } = await world();
    events.failNext = true;
    await assert.rejects(
      service.begin(begin({ snapshotId: SNAP })),
      /restore not started: .* nothing was written/,
    );
    const [recorded] = await service.list();
    assert.equal(recorded?.state, 'failed');
    assert.equal(recorded?.reason, 'its STARTED event could not be published');
  });

  it('a publish that fails fails the call (retriable) with the change stored', async () => {
    const { service, events } = await world();
    const r = await service.begin(begin({ snapshotId: SNAP }));
    events.failNext = true;
    await assert.rejects(
      service.finish(r.restoreId, { state: 'complete', progress: progress(4, true) }),
      (e: unknown) => {
        assert.ok(e instanceof TidemarkError);
        assert.equal(e.retriable, true);
        assert.match(e.message, /is recorded complete .* completed event could not be published/);
        return true;
      },
    );
    assert.equal((await service.get(r.restoreId)).state, 'complete');
    await service.finish(r.restoreId, { state: 'complete' });
    assert.equal(events.events.at(-1)!.event, 'completed');
  });

  it('a restore not heard from for the abandon time is recorded failed on read, with a FAILED event', async () => {
    const { service, events, advance } = await world();
    const r = await service.begin(begin({ snapshotId: SNAP }));
    await service.progress(r.restoreId, progress(5));
    advance(60_000);
    // A heartbeat: the same progress, so no PROGRESSED event, but the CLI was heard from.
    await service.progress(r.restoreId, progress(5));
    advance(100_000);
    assert.equal(
      (await service.get(r.restoreId)).state,
      'running',
      '100 s after the last report: still running',
    );
    advance(20_001);
    const seen = await service.get(r.restoreId);
    assert.equal(seen.state, 'failed');
    assert.match(seen.reason ?? '', /no word from the restoring process since 2026-12-03T10:01:00\.000Z/);
    assert.match(seen.reason ?? '', /5 documents and 0 oplog entries were reported written.*--drop/);
    assert.deepEqual(
      events.events.map((e) => e.event),
      ['started', 'progressed', 'failed'],
    );
    assert.equal((await service.get(r.restoreId)).state, 'failed');
    assert.equal(events.events.length, 3, 'recorded once, published once');
    // The CLI comes back: its reports and its finish are refused, so it stops.
    await assert.rejects(service.progress(r.restoreId, progress(6)), RestoreNotAllowedError);
    await assert.rejects(service.finish(r.restoreId, { state: 'complete' }), RestoreNotAllowedError);
  });

  it('reapAbandoned ends every abandoned running restore and leaves live and finished ones alone', async () => {
    const { service, events, advance } = await world();
    const lost = await service.begin(begin({ snapshotId: SNAP }));
    const done = await service.begin(begin({ snapshotId: SNAP }));
    await service.finish(done.restoreId, { state: 'complete', progress: progress(3, true) });
    advance(110_000);
    const live = await service.begin(begin({ jobId: JOB, point: '1700000000:9' }));
    advance(15_000);
    const ended = await service.reapAbandoned();
    assert.deepEqual(
      ended.map((e) => [e.restoreId, e.state]),
      [[lost.restoreId, 'failed']],
    );
    assert.equal((await service.get(live.restoreId)).state, 'running');
    assert.equal((await service.get(done.restoreId)).state, 'complete');
    assert.deepEqual(await service.reapAbandoned(), [], 'nothing left to reap');
    assert.equal(events.events.filter((e) => e.event === 'failed').length, 1);
    advance(120_001);
    const states = new Map((await service.list({ jobId: JOB })).map((e) => [e.restoreId, e.state]));
    assert.deepEqual(
      [states.get(lost.restoreId), states.get(done.restoreId), states.get(live.restoreId)],
      ['failed', 'complete', 'failed'],
      'a list settles abandoned entries too',
    );
  });

  it('an abandoned restore whose FAILED event cannot be published is recorded failed, the event owed', async () => {
    const { service, events, advance, warnings } = await world();
    const r = await service.begin(begin({ snapshotId: SNAP }));
    advance(120_001);
    events.failNext = true;
    const seen = await service.get(r.restoreId);
    assert.equal(seen.state, 'failed', 'the read returns the record as written');
    assert.deepEqual(
      seen.unpublished.map((u) => u.kind),
      ['failed'],
    );
    assert.match(
      warnings.join('\n'),
      /is recorded failed .*but its failed event could not be published .*owed/,
    );
    assert.equal(await service.flushUnpublished(), 1);
    assert.deepEqual(
      events.events.map((e) => e.event),
      ['started', 'failed'],
    );
    assert.deepEqual((await service.get(r.restoreId)).unpublished, []);
  });

  it('events of changes made while the bus is down are published later, in order, with their own times, by any replica', async () => {
    const { service, replica, events, advance } = await world();
    const r = await service.begin(begin({ snapshotId: SNAP }));
    events.down = true;
    advance(1_000);
    await assert.rejects(service.requestCancel(r.restoreId), /cancel-requested event could not be published/);
    advance(1_000);
    await assert.rejects(
      service.finish(r.restoreId, { state: 'cancelled', reason: 'asked to', progress: progress(7) }),
      /is recorded cancelled .*but its cancel-requested event could not be published/,
    );
    await assert.rejects(
      replica().flushUnpublished(),
      /1 of 1 restores still owe events: .*could not be published/,
    );
    assert.deepEqual(
      (await service.get(r.restoreId)).unpublished.map((u) => u.kind),
      ['cancel-requested', 'cancelled'],
    );
    events.down = false;
    // A replica that never saw these calls (another one, or this one after a restart) publishes what is owed.
    const other = replica();
    assert.equal(await other.flushUnpublished(), 1);
    assert.deepEqual(
      events.events.map((e) => [e.event, e.at.toISOString()]),
      [
        ['started', '2026-12-03T10:00:00.000Z'],
        ['cancel-requested', '2026-12-03T10:00:01.000Z'],
        ['cancelled', '2026-12-03T10:00:02.000Z'],
      ],
    );
    assert.equal(events.events.at(-1)!.documents, 7, 'a late event carries the summary');
    assert.equal(await other.flushUnpublished(), 0, 'nothing owed any more');
    assert.equal(events.events.length, 3);
    assert.equal((await service.get(r.restoreId)).updatedAt.toISOString(), '2026-12-03T10:00:02.000Z');
  });

  it('a refused start owes its STARTED and FAILED events until the bus answers', async () => {
    const { service, events } = await world();
    events.down = true;
    await assert.rejects(service.begin(begin({ snapshotId: SNAP })), /restore not started/);
    events.down = false;
    assert.equal(await service.flushUnpublished(), 1);
    assert.deepEqual(
      events.events.map((e) => [e.event, e.reason]),
      [
        ['started', 'its STARTED event could not be published'],
        ['failed', 'its STARTED event could not be published'],
      ],
    );
  });
});
