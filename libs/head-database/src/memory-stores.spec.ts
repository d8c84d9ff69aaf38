import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeFenceStore, describeLeaseStore, describeMissingDocumentStore } from './contracts';
import { MemoryFenceStore } from './memory-fence-store';
import { MemoryLeaseStore } from './memory-lease-store';
import { MemoryMissingDocumentStore } from './memory-missing-document-store';
import { MemoryJobPhaseReader } from './memory-job-phase-reader';
import { missingBatches } from './missing-batches';

describeLeaseStore('MemoryLeaseStore', async () => ({ store: new MemoryLeaseStore() }));
describeFenceStore('MemoryFenceStore', async () => ({ store: new MemoryFenceStore() }));
describeMissingDocumentStore('MemoryMissingDocumentStore', async () => ({
  store: new MemoryMissingDocumentStore(),
}));

describe('missingBatches', () => {
  it('cuts a batch at the byte bound too, and a single large id travels alone', async () => {
    const store = new MemoryMissingDocumentStore();
    const big = `"b${'x'.repeat(300)}"`; // sorts between "b" and "c"
    const ids = ['"a"', '"b"', big, '"c"'];
    await store.record(
      'j',
      'j-s1',
      ids.map((id) => ({ sourceNs: 'db.c', targetNs: 'th_j_1_db.c', id, ts: { t: 1, i: 1 } })),
    );
    const batches = [];
    for await (const b of missingBatches(store, 'j', 'j-s1', { maxIds: 1000, maxBytes: 100 }))
      batches.push(b.ids);
    assert.deepEqual(batches, [['"a"', '"b"'], [big], ['"c"']]);
  });
});

describe('MemoryJobPhaseReader', () => {
  it('lists only jobs in applying-oplogs or later', async () => {
    const reader = new MemoryJobPhaseReader();
    reader.set({ jobId: 'a', syncId: 'a-s1', syncNo: 1, phase: 'building' });
    reader.set({ jobId: 'b', syncId: 'b-s1', syncNo: 1, phase: 'applying-oplogs' });
    reader.set({ jobId: 'c', syncId: 'c-s2', syncNo: 2, phase: 'complete' });
    assert.deepEqual((await reader.listApplying()).map((j) => j.jobId).sort(), ['b', 'c']);
  });
});
