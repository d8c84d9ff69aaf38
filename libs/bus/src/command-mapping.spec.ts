import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaMismatchError } from '@tidemark/domain';
import { defaultCodec } from './codec';
import { jobCommandOf } from './command-mapping';
import { phaseChangedOf, phaseReportOf } from './phase-mapping';
import type { PhaseChanged } from './types';

const event: PhaseChanged = {
  jobId: 'abcd1234',
  syncId: 'abcd1234-s1',
  phase: 'FETCHING_MISSING_DOCUMENTS',
  stage: 'oplog-applier',
  progress: {
    docsCopied: 9_007_199_254_740_993n,
    docsTotal: null,
    bytesCopied: 5n,
    bytesTotal: 6n,
    namespaces: [{ namespace: 'a.b', docsCopied: 1n, docsTotal: 2n, bytesCopied: 3n, bytesTotal: null }],
  },
  appliedTs: null,
  sourceTs: (1_700_000_005n << 32n) | 1n,
  details: { missingDocuments: '3', 'fcv.$x': 'odd key' },
  at: new Date('2026-05-06T07:08:09.010Z'),
};

describe('Avro mapping', () => {
  it('reads a PhaseChanged: domain phase, Int64 counters kept exact, sourceTs as an oplog position', () => {
    const report = phaseReportOf(event);
    assert.equal(report.phase, 'fetching-missing-documents');
    assert.equal(report.progress.docsCopied, 9_007_199_254_740_993n);
    assert.deepEqual(report.sourceTs, { t: 1_700_000_005, i: 1 });
    assert.deepEqual(report.details, { missingDocuments: '3', 'fcv.$x': 'odd key' });
    assert.throws(() => phaseReportOf({ ...event, phase: 'SLEEPING' as never }), SchemaMismatchError);
  });

  it('writes job-state’s own report and commands as records the codec accepts', () => {
    const codec = defaultCodec();
    const record = phaseChangedOf(phaseReportOf(event));
    const back = codec.decodeAs(
      'tidemark.phases.PhaseChanged',
      codec.encode('tidemark.phases.PhaseChanged', record),
      'test',
    );
    assert.equal(back.phase, 'FETCHING_MISSING_DOCUMENTS');
    assert.equal(back.sourceTs, event.sourceTs);
    const command = jobCommandOf({
      commandId: 'c-1',
      jobId: 'abcd1234',
      action: 'START',
      issuedAt: new Date(0),
      params: { syncId: 'abcd1234-s1' },
    });
    const decoded = codec.decodeAs(
      'tidemark.commands.JobCommand',
      codec.encode('tidemark.commands.JobCommand', command),
      'test',
    );
    assert.equal(decoded.action, 'START');
    assert.deepEqual({ ...decoded.params }, { syncId: 'abcd1234-s1' });
  });
});
