import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobStatus } from '@tidemark/jobs';
import { bytes, formatStatus, opTimeText, progressBar } from './job-format';

const status: JobStatus = {
  id: 'abcd1234',
  project: 'shop',
  state: 'active',
  phase: 'complete',
  syncId: 'abcd1234-s2',
  syncNo: 2,
  progress: {
    docsCopied: '1200',
    docsTotal: '1200',
    bytesCopied: '1048576',
    bytesTotal: null,
    percent: 100,
    stage: 'head-builder',
    namespaces: [],
  },
  appliedOpTime: '1700000000:3',
  lag: { seconds: 0, entries: 0 },
  head: { uri: 'mongodb://b:27017/', namespaces: { 'app.users': 'th_abcd1234_2_app.users' } },
  source: { serverVersion: '7.0.12', featureCompatibilityVersion: '7.0' },
  alerts: [],
  blocked: {
    code: 'SLICE_REJECTED',
    message: 'slice x rejected',
    alertId: 'a',
    at: '2026-01-01T00:00:00.000Z',
  },
  lastSnapshot: null,
  snapshots: 0,
  restorableWindow: null,
  readLimit: 2.5,
};

describe('job output', () => {
  it('draws progress bars and sizes', () => {
    assert.equal(progressBar(50), '[############------------]  50.0%');
    assert.equal(progressBar(null), '[????????????????????????]    ?  ');
    assert.equal(bytes('1048576'), '1.0 MiB');
    assert.equal(bytes('12'), '12 B');
    assert.equal(bytes(null), '?');
    assert.equal(opTimeText('0:1'), '0:1 (1970-01-01 00:00:00 UTC)');
    assert.equal(opTimeText(null), '-');
  });

  it('shows state, phase, applied position, lag, head mapping, source and the block at a glance', () => {
    const text = formatStatus(status);
    for (const expected of [
      /^job abcd1234 {2}\(project shop\)$/m,
      /^ {2}state {5}active$/m,
      /phase {5}complete .*100\.0% {2}1,200 \/ 1,200 docs, 1\.0 MiB \/ \?/,
      /applied {3}1700000000:3 \(2023-11-14 22:13:20 UTC\)/,
      /lag {7}0 s behind the source, 0 stored oplog entries to apply/,
      /head {6}mongodb:\/\/b:27017\/\n {12}app\.users -> th_abcd1234_2_app\.users/,
      /source {4}MongoDB 7\.0\.12 \(FCV 7\.0\)/,
      /^ {2}reads {5}at most 2\.5 MB\/s$/m,
      /BLOCKED {3}SLICE_REJECTED: slice x rejected/,
    ]) {
      assert.match(text, expected);
    }
  });

  it('says a job without a read limit reads uncapped', () => {
    assert.match(formatStatus({ ...status, readLimit: null }), /^ {2}reads {5}uncapped$/m);
  });
});
