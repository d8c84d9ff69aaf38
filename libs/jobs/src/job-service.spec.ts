import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTransitionError, JOB_STATES, type JobState } from '@tidemark/domain';
import { JobEffectsPendingError, JobNotFoundError, JobValidationError } from './job-errors';
import { JOB_ID_PATTERN, randomJobId, type IdSource } from './job-id';
import { USER_ACTIONS, type UserAction } from './job-actions';
import { JobService } from './job-service';
import { MemoryBackupData } from './memory-backup-data';
import { MemoryCommandPublisher } from './memory-command-publisher';
import { MemoryJobRepository } from './memory-job-repository';
import { MemorySnapshotCatalog } from './memory-snapshot-catalog';
import { memoryJobService, phaseReport } from './spec-support';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from './job-record';

function counterIds(): IdSource {
  let jobs = 0;
  let messages = 0;
  return { jobId: () => `job${String(++jobs).padStart(5, '0')}`, messageId: () => `m-${++messages}` };
}

function setup() {
  const jobs = new MemoryJobRepository();
  const publisher = new MemoryCommandPublisher();
  const backupData = new MemoryBackupData();
  const service = new JobService({
    snapshots: new MemorySnapshotCatalog(),
    jobs,
    publisher,
    backupData,
    backupUri: 'mongodb://admin:s3cret@backup.example:27017/?replicaSet=rs0',
    ids: counterIds(),
    clock: () => new Date('2026-03-01T10:00:00.000Z'),
  });
  return { jobs, publisher, backupData, service };
}

const input = {
  project: 'shop',
  sourceUri: 'mongodb://src.example:27017/?replicaSet=rs0',
  include: ['app', 'billing.invoices'],
  exclude: ['app.sessions'],
};

/** A job brought into `state` through legal actions. */
async function jobIn(service: JobService, state: JobState): Promise<string> {
  const { id } = await service.createJob(input);
  if (state === 'inactive') return id;
  await service.start(id);
  if (state === 'initial-sync') return id;
  await service.foldPhase(phaseReport(id, `${id}-s1`, 'complete'));
  if (state === 'active') return id;
  await service.stop(id);
  return id;
}

describe('JobService: creating jobs', () => {
  it('creates an inactive job with an 8-character [a-z0-9] id and no sync', async () => {
    const jobs = new MemoryJobRepository();
    const service = memoryJobService({ jobs });
    const job = await service.createJob(input);
    assert.match(job.id, JOB_ID_PATTERN);
    assert.equal(job.state, 'inactive');
    assert.equal(job.syncNo, 0);
    assert.equal(job.syncId, undefined);
    assert.deepEqual(job.namespaces, { include: ['app', 'billing.invoices'], exclude: ['app.sessions'] });
    assert.deepEqual(await jobs.get(job.id), job);
    for (let n = 0; n < 200; n++) assert.match(randomJobId(), JOB_ID_PATTERN);
  });

  it('draws another id when the first is taken', async () => {
    const { service, jobs } = setup();
    const first = await service.createJob(input);
    let draws = 0;
    const again = memoryJobService({
      jobs,
      ids: { jobId: () => (++draws === 1 ? first.id : 'other001'), messageId: () => 'x' },
    });
    assert.equal((await again.createJob(input)).id, 'other001');
  });

  it('refuses a source URI with credentials, telling the user to give them to the agent', async () => {
    const { service } = setup();
    await assert.rejects(
      service.createJob({ ...input, sourceUri: 'mongodb://alice:pw@src.example:27017/' }),
      (err: unknown) =>
        err instanceof JobValidationError &&
        /TIDEMARK_SOURCE_USERNAME/.test(err.message) &&
        /TIDEMARK_SOURCE_PASSWORD/.test(err.message),
    );
  });

  it('refuses invalid filters and a non-MongoDB URI, listing every problem', async () => {
    const { service } = setup();
    await assert.rejects(
      service.createJob({ ...input, sourceUri: 'http://x', include: ['admin', 'bad$db.c'], project: ' ' }),
      (err: unknown) => {
        assert.ok(err instanceof JobValidationError);
        assert.ok(err.problems.some((p) => /mongodb:\/\//.test(p)));
        assert.ok(err.problems.some((p) => /"admin" is never backed up/.test(p)));
        assert.ok(err.problems.some((p) => /bad\$db/.test(p)));
        assert.ok(err.problems.some((p) => /project is empty/.test(p)));
        return true;
      },
    );
  });
});

describe('JobService: the state machine and its commands', () => {
  it('start: new sync 1, initial-sync / starting, START with syncId, syncNo, sourceUri and filters, then STARTING', async () => {
    const { service, publisher } = setup();
    const { id } = await service.createJob(input);
    const job = await service.start(id);
    assert.equal(job.state, 'initial-sync');
    assert.equal(job.phase, 'starting');
    assert.equal(job.syncNo, 1);
    assert.equal(job.syncId, `${id}-s1`);
    assert.deepEqual(job.outbox, [], 'sent and removed from the outbox');
    assert.equal(publisher.sent.length, 2);
    const [start, starting] = publisher.sent;
    assert.ok(start?.kind === 'command');
    assert.equal(start.command.action, 'START');
    assert.equal(start.command.jobId, id);
    assert.deepEqual(start.command.params, {
      syncId: `${id}-s1`,
      syncNo: '1',
      sourceUri: input.sourceUri,
      include: '["app","billing.invoices"]',
      exclude: '["app.sessions"]',
    });
    assert.ok(starting?.kind === 'phase');
    assert.equal(starting.report.phase, 'starting');
    assert.equal(starting.report.syncId, `${id}-s1`);
    assert.equal(starting.report.stage, 'job-state');
  });

  it('stop: stopped, STOP naming the sync; restart: sync 2 with RESTART', async () => {
    const { service, publisher } = setup();
    const id = await jobIn(service, 'active');
    const stopped = await service.stop(id);
    assert.equal(stopped.state, 'stopped');
    assert.deepEqual(publisher.commands().at(-1)?.params, { syncId: `${id}-s1` });
    assert.equal(publisher.commands().at(-1)?.action, 'STOP');
    const restarted = await service.restart(id);
    assert.equal(restarted.state, 'initial-sync');
    assert.equal(restarted.syncNo, 2);
    assert.equal(restarted.syncId, `${id}-s2`);
    const cmd = publisher.commands().at(-1);
    assert.equal(cmd?.action, 'RESTART');
    assert.equal(cmd?.params['syncId'], `${id}-s2`);
    assert.equal(cmd?.params['syncNo'], '2');
  });

  it('resync of an active job: a new sync with RESYNC and its reason', async () => {
    const { service, publisher } = setup();
    const id = await jobIn(service, 'active');
    const job = await service.resync(id, 'oplog rolled over');
    assert.equal(job.state, 'initial-sync');
    assert.equal(job.phase, 'starting');
    assert.equal(job.syncId, `${id}-s2`);
    const cmd = publisher.commands().at(-1);
    assert.equal(cmd?.action, 'RESYNC');
    assert.equal(cmd?.params['reason'], 'oplog rolled over');
    assert.equal(cmd?.params['syncNo'], '2');
  });

  it('resync during initial-sync (agent restarted mid-transfer): stop + restart as one RESYNC', async () => {
    const { service, publisher } = setup();
    const id = await jobIn(service, 'initial-sync');
    const job = await service.resync(id, 'agent restarted during transfer');
    assert.equal(job.state, 'initial-sync');
    assert.equal(job.syncId, `${id}-s2`);
    assert.deepEqual(
      publisher.commands().map((c) => c.action),
      ['START', 'RESYNC'],
    );
  });

  it('terminate: inactive, TERMINATE, then every sync’s retained backups deleted', async () => {
    const { service, publisher, backupData } = setup();
    const id = await jobIn(service, 'active');
    await service.stop(id);
    await service.restart(id); // sync 2
    await service.stop(id);
    backupData.setHead(id, `${id}-s2`, { appliedTs: { t: 5, i: 1 }, namespaces: [] });
    backupData.addOplogSlice(id, `${id}-s2`, { firstTs: { t: 5, i: 2 }, lastTs: { t: 6, i: 0 }, entries: 3 });
    const job = await service.terminate(id);
    assert.equal(job.state, 'inactive');
    assert.equal(job.syncId, undefined);
    assert.equal(job.phase, undefined);
    assert.equal(job.deletedThrough, 2);
    assert.deepEqual(backupData.deleted, [`${id}/1`, `${id}/2`]);
    assert.equal(backupData.holds(id, `${id}-s2`), false);
    const last = publisher.commands().at(-1);
    assert.equal(last?.action, 'TERMINATE');
    assert.deepEqual(last?.params, { syncId: `${id}-s2` });
    // A terminated job can start again, with a sync number that never reuses an old head's name.
    const again = await service.start(id);
    assert.equal(again.syncId, `${id}-s3`);
  });

  it('answers every illegal (state, action) pair with IllegalTransitionError naming state and action', async () => {
    const legal: Record<JobState, UserAction[]> = {
      inactive: ['start'],
      'initial-sync': ['stop', 'resync'],
      active: ['stop', 'resync'],
      stopped: ['restart', 'terminate'],
    };
    for (const state of JOB_STATES) {
      for (const action of USER_ACTIONS) {
        const { service, publisher } = setup();
        const id = await jobIn(service, state);
        const before = publisher.sent.length;
        if (legal[state].includes(action)) {
          await service.act(id, action);
          continue;
        }
        await assert.rejects(
          service.act(id, action),
          (err: unknown) =>
            err instanceof IllegalTransitionError &&
            err.message.includes(`"${action}"`) &&
            err.message.includes(`"${state}"`),
          `${action} in ${state}`,
        );
        assert.equal(publisher.sent.length, before, `${action} in ${state} sent nothing`);
        assert.equal((await service.getJob(id)).state, state, `${action} in ${state} changed nothing`);
      }
    }
  });

  it('throws JobNotFoundError for an unknown job', async () => {
    const { service } = setup();
    await assert.rejects(service.start('nosuchjb'), JobNotFoundError);
    await assert.rejects(service.status('nosuchjb'), JobNotFoundError);
  });
});

describe('JobService: outbox', () => {
  it('keeps the change and its commands when Kafka fails, and sends them in order later', async () => {
    const { service, publisher } = setup();
    const { id } = await service.createJob(input);
    publisher.failing = 'broker down';
    await assert.rejects(
      service.start(id),
      (err: unknown) => err instanceof JobEffectsPendingError && err.retriable,
    );
    const pending = await service.getJob(id);
    assert.equal(pending.state, 'initial-sync');
    assert.equal(pending.outbox.length, 2);
    publisher.failing = undefined;
    assert.equal(await service.flushAllEffects(), 1);
    assert.deepEqual(
      publisher.sent.map((m) => (m.kind === 'command' ? m.command.action : m.report.phase)),
      ['START', 'starting'],
    );
    assert.equal((await service.getJob(id)).outbox.length, 0);
  });

  it('sends what a job still owes before the next action, so STOP never overtakes START', async () => {
    const { service, publisher } = setup();
    const { id } = await service.createJob(input);
    publisher.failing = 'broker down';
    await assert.rejects(service.start(id), JobEffectsPendingError);
    publisher.failing = undefined;
    await service.stop(id);
    assert.deepEqual(
      publisher.commands().map((c) => c.action),
      ['START', 'STOP'],
    );
  });
});

describe('JobService: folding reports', () => {
  it('moves the phase forward for the current sync only, and completes to active', async () => {
    const { service } = setup();
    const id = await jobIn(service, 'initial-sync');
    assert.equal(await service.foldPhase(phaseReport(id, `${id}-s1`, 'transferring', 10)), 'applied');
    assert.equal(await service.foldPhase(phaseReport(id, `${id}-s9`, 'complete', 11)), 'stale-sync');
    assert.equal(await service.foldPhase(phaseReport(id, `${id}-s1`, 'building', 12)), 'applied');
    await service.foldPhase(phaseReport(id, `${id}-s1`, 'starting', 13));
    assert.equal((await service.getJob(id)).phase, 'building');
    assert.equal(await service.foldPhase(phaseReport('unknownj', 'unknownj-s1', 'building')), 'unknown-job');
    await service.foldPhase(phaseReport(id, `${id}-s1`, 'complete', 14));
    const job = await service.getJob(id);
    assert.equal(job.state, 'active');
    assert.equal(job.phase, 'complete');
    assert.equal(await service.foldPhase(phaseReport(id, `${id}-s1`, 'complete', 14)), 'unchanged');
  });

  it('deletes the previous sync’s retained backups once a resync completes', async () => {
    const { service, backupData } = setup();
    const id = await jobIn(service, 'active');
    await service.resync(id);
    assert.deepEqual(backupData.deleted, [], 'the old head stays until the new one is complete');
    await service.foldPhase(phaseReport(id, `${id}-s2`, 'complete'));
    assert.deepEqual(backupData.deleted, [`${id}/1`]);
    assert.equal((await service.getJob(id)).deletedThrough, 1);
  });

  it('blocks the job on SLICE_REJECTED and clears it with the next sync', async () => {
    const { service } = setup();
    const id = await jobIn(service, 'active');
    const outcome = await service.foldAlert({
      alertId: 'a-1',
      jobId: id,
      severity: 'critical',
      code: 'SLICE_REJECTED',
      message: 'slice x was rejected',
      context: { sliceId: `${id}-s1:o:1.0:2.0` },
      at: new Date(5),
    });
    assert.equal(outcome, 'applied');
    assert.deepEqual((await service.status(id)).blocked, {
      code: 'SLICE_REJECTED',
      message: 'slice x was rejected',
      alertId: 'a-1',
      at: new Date(5).toISOString(),
    });
    assert.equal(
      await service.foldAlert({
        alertId: 's',
        jobId: null,
        severity: 'info',
        code: 'X',
        message: '',
        context: {},
        at: new Date(0),
      }),
      'unknown-job',
    );
    await service.resync(id);
    const status = await service.status(id);
    assert.equal(status.blocked, null);
    assert.deepEqual(status.alerts, []);
  });
});

/**
 * A repository whose compare-and-set checks the revision and writes in two steps with a pause between, as FerretDB
 * evaluates a conditional replace: two writers of one revision can both succeed.
 */
class NonAtomicJobRepository extends MemoryJobRepository {
  private calls = 0;

  override async replace(job: JobRecord, expectedRevision: number): Promise<boolean> {
    const stored = await this.get(job.id);
    if (stored === undefined || stored.revision !== expectedRevision) return false;
    await sleep(2 - (this.calls++ % 3)); // writers leave the check in the reverse order they entered it
    return super.replace(job, (await this.get(job.id))?.revision ?? expectedRevision);
  }
}

describe('JobService: concurrent writes of one job', () => {
  it('loses no change when an action and folds race, even on a store whose compare-and-set is not atomic', async () => {
    const jobs = new NonAtomicJobRepository();
    const service = memoryJobService({
      jobs,
      backupUri: 'mongodb://backup.example:27017/',
      ids: counterIds(),
    });
    for (let round = 0; round < 10; round++) {
      const id = await jobIn(service, 'initial-sync');
      const stages = ['agent', 'slice-ingest', 'head-builder', 'oplog-applier'];
      await Promise.all(
        stages.map((stage) =>
          service.foldPhase({ ...phaseReport(id, `${id}-s1`, 'transferring', 10), stage }),
        ),
      );
      const folded = (await service.getJob(id)).progress.map((p) => p.stage).sort();
      assert.deepEqual(folded, [...stages].sort(), `round ${round}: a fold was lost`);
      const [resynced] = await Promise.all([
        service.resync(id, 'race'),
        service.foldPhase(phaseReport(id, `${id}-s1`, 'building', 11)),
      ]);
      const job = await service.getJob(id);
      assert.equal(resynced.syncId, `${id}-s2`);
      assert.equal(job.syncId, `${id}-s2`, `round ${round}: the resync was overwritten by a fold`);
      assert.equal(job.outbox.length, 0, `round ${round}: effects left pending`);
    }
  });
});

describe('JobService: status, resume and agent jobs', () => {
  it('reads the applied position and lag from the backup side; the head URI loses its credentials', async () => {
    const { service, backupData } = setup();
    const id = await jobIn(service, 'initial-sync');
    const sync = `${id}-s1`;
    await service.foldPhase({
      ...phaseReport(id, sync, 'transferring', 10),
      stage: 'agent',
      sourceTs: { t: 1_700_000_050, i: 1 },
      details: { startTs: '1700000000.5', serverVersion: '7.0.12', featureCompatibilityVersion: '7.0' },
      progress: {
        docsCopied: 50n,
        docsTotal: 200n,
        bytesCopied: 1024n,
        bytesTotal: 4096n,
        namespaces: [
          { namespace: 'app.users', docsCopied: 50n, docsTotal: 100n, bytesCopied: 1024n, bytesTotal: null },
        ],
      },
    });
    let status = await service.status(id);
    assert.equal(status.appliedOpTime, null);
    assert.deepEqual(status.lag, { seconds: null, entries: null });
    assert.deepEqual(status.head, { uri: 'mongodb://backup.example:27017/?replicaSet=rs0', namespaces: {} });
    assert.equal(status.progress.percent, 25);
    assert.equal(status.progress.docsCopied, '50');
    assert.equal(status.progress.namespaces[0]?.percent, 50);
    assert.deepEqual(status.source, { serverVersion: '7.0.12', featureCompatibilityVersion: '7.0' });

    backupData.setHead(id, sync, {
      appliedTs: { t: 1_700_000_040, i: 3 },
      namespaces: [{ ns: 'app.users', headNs: `th_${id}_1_app.users` }],
    });
    backupData.addOplogSlice(id, sync, {
      firstTs: { t: 1_700_000_041, i: 0 },
      lastTs: { t: 1_700_000_060, i: 2 },
      entries: 7,
    });
    backupData.addOplogSlice(id, sync, {
      firstTs: { t: 1_700_000_030, i: 0 },
      lastTs: { t: 1_700_000_040, i: 3 },
      entries: 4,
    });
    status = await service.status(id);
    assert.equal(status.appliedOpTime, '1700000040:3');
    assert.deepEqual(status.lag, { seconds: 20, entries: 7 }, 'newest of phase sourceTs and stored slices');
    assert.deepEqual(status.head.namespaces, { 'app.users': `th_${id}_1_app.users` });

    const resume = await service.resume(id);
    assert.deepEqual(resume, {
      id,
      syncId: sync,
      syncNo: 1,
      state: 'initial-sync',
      phase: 'transferring',
      startTs: '1700000000:5',
      resumeTs: '1700000060:2',
    });
  });

  it('lists the jobs the agent serves: initial-sync and active only', async () => {
    const { service } = setup();
    const inactive = await jobIn(service, 'inactive');
    const syncing = await jobIn(service, 'initial-sync');
    const active = await jobIn(service, 'active');
    const stopped = await jobIn(service, 'stopped');
    const listed = await service.agentJobs();
    assert.deepEqual(listed.map((j) => j.id).sort(), [syncing, active].sort());
    assert.ok(!listed.some((j) => j.id === inactive || j.id === stopped));
    assert.deepEqual(
      listed.find((j) => j.id === active),
      {
        id: active,
        state: 'active',
        phase: 'complete',
        syncId: `${active}-s1`,
        syncNo: 1,
        source: { uri: input.sourceUri },
        filters: { include: input.include, exclude: input.exclude },
        readLimit: null,
      },
    );
  });
});

describe('JobService: snapshots', () => {
  it('asks for a snapshot of an active job only, through the outbox, and lists it from the catalog', async () => {
    const { service, publisher } = setup();
    const inactive = await jobIn(service, 'inactive');
    await assert.rejects(service.requestSnapshot(inactive), /only an active job gets new snapshots/);
    const id = await jobIn(service, 'active');
    const entry = await service.requestSnapshot(id);
    assert.equal(entry.state, 'requested');
    assert.match(entry.snapshotId, new RegExp(`^${id}-\\d{8}T\\d{6}Z-[a-z0-9]{4}$`));
    const take = publisher.commands().find((c) => c.action === 'TAKE_SNAPSHOT');
    assert.deepEqual(take?.params, {
      snapshotId: entry.snapshotId,
      requestId: entry.snapshotId,
      syncId: `${id}-s1`,
    });
    assert.equal((await service.getJob(id)).outbox.length, 0);
    assert.deepEqual(
      (await service.listSnapshots(id)).map((s) => s.snapshotId),
      [entry.snapshotId],
    );
    await service.foldSnapshot({
      event: 'completed',
      jobId: id,
      snapshotId: entry.snapshotId,
      syncId: `${id}-s1`,
      store: 'blockstore',
      opTime: { t: 5, i: 1 },
      takenAt: new Date('2026-03-01T10:00:00.000Z'),
      completedAt: new Date('2026-03-01T10:00:01.000Z'),
      logicalBytes: 10,
      storedBytes: 5,
      namespaceCount: 1,
      documentCount: 1,
      at: new Date('2026-03-01T10:00:01.000Z'),
    });
    const status = await service.status(id);
    assert.equal(status.snapshots, 1);
    assert.equal(status.lastSnapshot?.id, entry.snapshotId);
    // One snapshot and nothing stored past it: the window is that snapshot's position.
    assert.deepEqual(status.restorableWindow, {
      from: { opTime: '5:1', wallTime: null },
      to: { opTime: '5:1', wallTime: null },
    });
    const requestId = await service.requestVerify(entry.snapshotId);
    const verify = publisher.commands().find((c) => c.action === 'VERIFY_SNAPSHOT');
    assert.deepEqual(verify?.params, { snapshotId: entry.snapshotId, requestId });
    await assert.rejects(service.getSnapshot('nope'), /snapshot nope not found/);

    await service.stop(id);
    assert.equal((await service.listSnapshots(id)).length, 1, 'a stopped job keeps its snapshots');
    await service.terminate(id);
    assert.deepEqual(await service.listSnapshots(id), [], 'terminate deletes every retained backup');
    assert.ok(publisher.commands().some((c) => c.action === 'TERMINATE' && c.jobId === id));
  });
});

describe('JobService: settings (the read limit)', () => {
  it('creates a capped job and sends its limit with START; changes it in any state without a command', async () => {
    const { service, publisher } = setup();
    const { id } = await service.createJob({ ...input, readLimit: 4 });
    assert.equal((await service.getJob(id)).readLimit, 4);
    await service.start(id);
    const start = publisher.sent.find((m) => m.kind === 'command');
    assert.ok(start?.kind === 'command');
    assert.equal(start.command.params['readLimit'], '4', 'the sync is paced from its first read');

    const sentBefore = publisher.sent.length;
    const before = await service.getJob(id);
    const raised = await service.changeSettings(id, { readLimit: 12.5 });
    assert.equal(raised.readLimit, 12.5);
    assert.equal(raised.state, 'initial-sync', 'the sync goes on');
    assert.equal(raised.revision, before.revision + 1);
    assert.equal(publisher.sent.length, sentBefore, 'no command: the agent polls GET /api/v1/agent/jobs');
    assert.equal((await service.agentJobs()).find((j) => j.id === id)?.readLimit, 12.5);

    const same = await service.changeSettings(id, { readLimit: 12.5 });
    assert.equal(same.revision, raised.revision, 'an unchanged setting writes nothing');
    const removed = await service.changeSettings(id, { readLimit: null });
    assert.equal(removed.readLimit, undefined);
    assert.equal('readLimit' in removed, false);
    assert.equal((await service.changeSettings(id, {})).revision, removed.revision);

    const stopped = await jobIn(service, 'stopped');
    assert.equal((await service.changeSettings(stopped, { readLimit: 1 })).readLimit, 1);
    await assert.rejects(service.changeSettings('nosuchjob', { readLimit: 1 }), JobNotFoundError);
  });
});
