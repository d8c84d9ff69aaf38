import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opTime, type RestoreEvent, type RestoreEventPublisher } from '@tidemark/domain';
import { JobService } from './job-service';
import { MemoryBackupData } from './memory-backup-data';
import { MemoryCommandPublisher } from './memory-command-publisher';
import { MemoryJobRepository } from './memory-job-repository';
import { MemoryRestoreCatalog } from './memory-restore-catalog';
import { MemorySnapshotCatalog } from './memory-snapshot-catalog';
import { loadProjectView, PROJECT_VIEW_MAX_JOBS, PROJECT_VIEW_SNAPSHOTS } from './project-view';
import { parseBeginRestoreRequest } from './restore-input';
import { RestoreService } from './restore-service';
import { requestedEntry } from './snapshot-catalog';

class NoEvents implements RestoreEventPublisher {
  async publish(_event: RestoreEvent): Promise<void> {}
}

function world() {
  const jobs = new MemoryJobRepository();
  const snapshots = new MemorySnapshotCatalog();
  const service = new JobService({
    jobs,
    snapshots,
    publisher: new MemoryCommandPublisher(),
    backupData: new MemoryBackupData(),
    backupUri: 'mongodb://admin:s3cret@backup.example:27017/',
  });
  const restores = new RestoreService({
    jobs,
    snapshots,
    restores: new MemoryRestoreCatalog(),
    events: new NoEvents(),
    progressEventIntervalMs: 0,
    abandonAfterMs: 120_000,
    warn: () => undefined,
  });
  const create = (project: string) =>
    service.createJob({ project, sourceUri: 'mongodb://src:27017/', include: [], exclude: [] });
  return { service, restores, snapshots, create };
}

describe('loadProjectView', () => {
  it("one project's jobs only, each with its view, status, newest snapshots and restores", async () => {
    const w = world();
    const mine = await w.create('shop');
    await w.create('other');
    const at = new Date('2026-12-04T10:00:00.000Z');
    for (let k = 0; k < PROJECT_VIEW_SNAPSHOTS + 3; k++) {
      const id = `${mine.id}-20261204T1000${String(k).padStart(2, '0')}Z-ab${String(k).padStart(2, '0')}`;
      await w.snapshots.put({
        ...requestedEntry(mine.id, id, 'blockstore', new Date(at.getTime() + k * 1000)),
        state: 'complete',
        opTime: opTime(1_700_000_000 + k, 1),
        opWallTime: at,
      });
    }
    const newest = `${mine.id}-20261204T100022Z-ab22`;
    await w.restores.begin(
      parseBeginRestoreRequest({ snapshotId: newest, target: 'mongodb://u:p@target:27017/' }),
    );
    const view = await loadProjectView(w.service, w.restores, 'shop');
    assert.equal(view.project, 'shop');
    assert.equal(view.truncated, false);
    assert.deepEqual(
      view.jobs.map((j) => j.job.id),
      [mine.id],
    );
    const [entry] = view.jobs;
    assert.deepEqual(entry?.job.allowedActions, ['start']);
    assert.equal(entry?.status.state, 'inactive');
    assert.equal(entry?.snapshots.length, PROJECT_VIEW_SNAPSHOTS);
    assert.equal(entry?.snapshots[0]?.id, newest, 'newest first');
    assert.equal(entry?.restores.length, 1);
    assert.equal(entry?.restores[0]?.target, 'mongodb://target:27017/', 'no credentials');
    assert.ok(!JSON.stringify(view).includes('s3cret'), 'no backup-side password');
  });

  it(`at most ${PROJECT_VIEW_MAX_JOBS} jobs, and says there are more`, async () => {
    const w = world();
    for (let k = 0; k <= PROJECT_VIEW_MAX_JOBS; k++) await w.create('big');
    const view = await loadProjectView(w.service, w.restores, 'big');
    assert.equal(view.jobs.length, PROJECT_VIEW_MAX_JOBS);
    assert.equal(view.truncated, true);
    const ids = view.jobs.map((j) => j.job.id);
    assert.deepEqual(ids, [...ids].sort(), 'by id');
  });
});
