import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PhaseChanged } from '@tidemark/bus';
import { SchemaMismatchError } from '@tidemark/domain';
import { toJobView, viewFromPhaseChanged } from './job-view';

const event: PhaseChanged = {
  jobId: 'job-1',
  syncId: 'sync-9',
  phase: 'FETCHING_MISSING_DOCUMENTS',
  stage: 'agent',
  progress: {
    docsCopied: 9_007_199_254_740_993n,
    docsTotal: null,
    bytesCopied: 5n,
    bytesTotal: 6n,
    namespaces: [{ namespace: 'a.b', docsCopied: 1n, docsTotal: 2n, bytesCopied: 3n, bytesTotal: null }],
  },
  appliedTs: (1_700_000_000n << 32n) | 12n,
  sourceTs: (1_700_000_005n << 32n) | 1n,
  details: { missingDocuments: '3', 'fcv.$x': 'odd key' },
  at: new Date('2026-05-06T07:08:09.010Z'),
};

describe('job view mapping', () => {
  it('stores the domain phase with its index, and the applied position as a BSON timestamp', () => {
    const doc = viewFromPhaseChanged(event);
    assert.equal(doc.phase, 'fetching-missing-documents');
    assert.equal(doc.phaseIndex, 4);
    assert.equal(doc.appliedTs?.t, 1_700_000_000);
    assert.equal(doc.appliedTs?.i, 12);
    assert.equal(doc.reportedAt, event.at);
    assert.deepEqual(doc.details, [
      { key: 'missingDocuments', value: '3' },
      { key: 'fcv.$x', value: 'odd key' },
    ]);
  });

  it('serves Int64 counters as exact decimal strings and the position as t:i', () => {
    const view = toJobView({ _id: 'job-1', ...viewFromPhaseChanged(event) });
    assert.deepEqual(view, {
      jobId: 'job-1',
      syncId: 'sync-9',
      phase: 'fetching-missing-documents',
      stage: 'agent',
      progress: {
        docsCopied: '9007199254740993',
        docsTotal: null,
        bytesCopied: '5',
        bytesTotal: '6',
        namespaces: [
          { namespace: 'a.b', docsCopied: '1', docsTotal: '2', bytesCopied: '3', bytesTotal: null },
        ],
      },
      appliedTs: '1700000000:12',
      sourceTs: '1700000005:1',
      details: { missingDocuments: '3', 'fcv.$x': 'odd key' },
      reportedAt: '2026-05-06T07:08:09.010Z',
    });
  });

  it('rejects a phase symbol the domain does not know', () => {
    assert.throws(() => viewFromPhaseChanged({ ...event, phase: 'SLEEPING' as never }), SchemaMismatchError);
  });
});
