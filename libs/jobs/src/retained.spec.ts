import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JobNotFoundError } from './job-errors';
import { MemoryBackupData } from './memory-backup-data';
import { MemorySnapshotCatalog } from './memory-snapshot-catalog';
import { memoryJobService, phaseReport } from './spec-support';
import { requestedEntry, type SnapshotEntry } from './snapshot-catalog';

const NOW = new Date('2026-03-01T10:00:00.000Z');

function entry(jobId: string, id: string, over: Partial<SnapshotEntry>): SnapshotEntry {
  return { ...requestedEntry(jobId, id, 'blockstore', NOW), ...over };
}

describe('JobService.retained: what a job holds, so what terminate deletes', () => {
  it('counts complete snapshots and the stored bytes of every snapshot holding data, the slices and head databases of each sync not deleted yet', async () => {
    const backupData = new MemoryBackupData();
    const snapshots = new MemorySnapshotCatalog();
    const service = memoryJobService({ snapshots, backupData, clock: () => NOW });
    const { id } = await service.createJob({
      project: 'p',
      sourceUri: 'mongodb://s',
      include: [],
      exclude: [],
    });
    assert.deepEqual(await service.retained(id), {
      jobId: id,
      snapshots: { count: 0, logicalBytes: '0', storedBytes: '0' },
      oplogSlices: { count: 0, bytes: '0' },
      headDatabases: [],
    });

    await service.start(id);
    await service.foldPhase(phaseReport(id, `${id}-s1`, 'complete', NOW));
    backupData.setHead(id, `${id}-s1`, {
      appliedTs: undefined,
      namespaces: [
        { ns: 'app.a', headNs: `th_${id}_1_app.a` },
        { ns: 'app.b', headNs: `th_${id}_1_app.b` },
        { ns: 'crm.c', headNs: `th_${id}_1_crm.c` },
      ],
    });
    const slice = { firstTs: { t: 1, i: 1 }, lastTs: { t: 2, i: 0 }, entries: 3 };
    backupData.addOplogSlice(id, `${id}-s1`, { ...slice, bytes: 1_000 });
    backupData.addOplogSlice(id, `${id}-s1`, { ...slice, bytes: 2_500 });
    backupData.addOplogSlice('other', 'other-s1', { ...slice, bytes: 9_999 });
    // 2^53 + 1 + 7 stored bytes: the sum is exact (a decimal string, as every int64 counter of the API).
    await snapshots.put(entry(id, 's1', { state: 'complete', logicalBytes: 10, storedBytes: 2 ** 53 }));
    await snapshots.put(entry(id, 's2', { state: 'complete', logicalBytes: 20, storedBytes: 1 }));
    await snapshots.put(entry(id, 's3', { state: 'failed', logicalBytes: 0, storedBytes: 7 }));
    await snapshots.put(entry(id, 's4', { state: 'deleted', logicalBytes: 5, storedBytes: 5 }));
    await snapshots.put(entry(id, 's5', { state: 'requested' }));
    await snapshots.put(entry('other', 's6', { state: 'complete', storedBytes: 100 }));

    assert.deepEqual(await service.retained(id), {
      jobId: id,
      snapshots: { count: 2, logicalBytes: '30', storedBytes: '9007199254741000' },
      oplogSlices: { count: 2, bytes: '3500' },
      headDatabases: [`th_${id}_1_app`, `th_${id}_1_crm`],
    });

    // A resync's new sync adds its own; once the old one is deleted, only the new one is left.
    await service.resync(id);
    backupData.addOplogSlice(id, `${id}-s2`, { ...slice, bytes: 500 });
    backupData.setHead(id, `${id}-s2`, {
      appliedTs: undefined,
      namespaces: [{ ns: 'app.a', headNs: `th_${id}_2_app.a` }],
    });
    assert.equal((await service.retained(id)).oplogSlices.bytes, '4000');
    await service.foldPhase(phaseReport(id, `${id}-s2`, 'complete', NOW));
    await service.flushEffects(id);
    const after = await service.retained(id);
    assert.deepEqual(after.oplogSlices, { count: 1, bytes: '500' });
    assert.deepEqual(after.headDatabases, [`th_${id}_2_app`]);
  });

  it('an unknown job is JobNotFoundError', async () => {
    await assert.rejects(memoryJobService().retained('nosuchjb'), JobNotFoundError);
  });
});
