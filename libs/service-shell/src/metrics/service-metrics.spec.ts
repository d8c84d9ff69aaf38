import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TidemarkError } from '@tidemark/domain';
import { errorClass, METRIC_NAMES, ServiceMetrics } from './service-metrics';

/** The value of the sample `name{labels}` in the exposition text (labels in the order prom-client prints them). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split('} ')[0]!;
    if (wanted.every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('ServiceMetrics', () => {
  it('exports the tidemark_ metrics with the service label and prom-client default process metrics', async () => {
    const metrics = new ServiceMetrics('slice-ingest');
    const text = await metrics.scrape();
    for (const name of Object.values(METRIC_NAMES)) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
    assert.ok(
      sample(text, 'tidemark_process_cpu_user_seconds_total', { service: 'slice-ingest' }) !== undefined,
    );
    assert.ok(sample(text, 'tidemark_nodejs_heap_size_used_bytes', { service: 'slice-ingest' })! > 0);
    assert.equal(sample(text, METRIC_NAMES.entriesApplied, { service: 'slice-ingest' }), 0);
  });

  it('counts snapshot events, times and sizes completed snapshots, and keeps the newest completion per job', async () => {
    const metrics = new ServiceMetrics('snapshotter');
    const base = {
      jobId: 'job00001',
      snapshotId: 'job00001-20261204T010000Z-aaaa',
      syncId: 'job00001-s1',
      store: 's3' as const,
      opTime: { t: 1_800_000_000, i: 1 },
      takenAt: new Date('2026-12-04T01:00:00.000Z'),
      logicalBytes: 0,
      storedBytes: 0,
      namespaceCount: 2,
      documentCount: 10,
      at: new Date('2026-12-04T01:00:00.000Z'),
    };
    const completedAt = new Date('2026-12-04T01:00:42.000Z');
    metrics.snapshotPublished({ ...base, event: 'started' });
    metrics.snapshotPublished({
      ...base,
      event: 'completed',
      completedAt,
      logicalBytes: 1000,
      storedBytes: 300,
    });
    metrics.snapshotPublished({ ...base, event: 'verified', verify: { ok: true, damagedBlocks: 0 } });
    metrics.snapshotPublished({ ...base, event: 'verified', verify: { ok: false, damagedBlocks: 2 } });
    metrics.snapshotPublished({ ...base, event: 'failed', store: 'filesystem', reason: 'disk full' });
    // An older snapshot's completion, reported late: the newest completion time stays.
    metrics.snapshotPublished({
      ...base,
      event: 'completed',
      takenAt: new Date('2026-12-04T00:00:00.000Z'),
      completedAt: new Date('2026-12-04T00:00:10.000Z'),
      logicalBytes: 500,
      storedBytes: 100,
    });
    const text = await metrics.scrape();
    const events = (labels: Record<string, string>) => sample(text, METRIC_NAMES.snapshotEvents, labels);
    assert.equal(events({ event: 'started', store: 's3', outcome: 'none' }), 1);
    assert.equal(events({ event: 'completed', store: 's3', outcome: 'none' }), 2);
    assert.equal(events({ event: 'verified', store: 's3', outcome: 'intact' }), 1);
    assert.equal(events({ event: 'verified', store: 's3', outcome: 'damaged' }), 1);
    assert.equal(events({ event: 'failed', store: 'filesystem', outcome: 'none' }), 1);
    assert.equal(sample(text, `${METRIC_NAMES.snapshotDuration}_count`, { store: 's3' }), 2);
    assert.equal(sample(text, `${METRIC_NAMES.snapshotDuration}_sum`, { store: 's3' }), 52);
    assert.equal(sample(text, `${METRIC_NAMES.snapshotDuration}_bucket`, { store: 's3', le: '15' }), 1);
    assert.equal(sample(text, METRIC_NAMES.snapshotBytes, { store: 's3', kind: 'logical' }), 1500);
    assert.equal(sample(text, METRIC_NAMES.snapshotBytes, { store: 's3', kind: 'stored' }), 400);
    assert.equal(
      sample(text, METRIC_NAMES.snapshotCompletedTime, { job_id: 'job00001' }),
      completedAt.getTime() / 1000,
    );
  });

  it('counts slices, documents, bytes and applied entries', async () => {
    const metrics = new ServiceMetrics('oplog-applier');
    metrics.slices('oplog', 'stored', 1, 10, 1000);
    metrics.slices('oplog', 'stored', 1, 5, 500);
    metrics.slices('initial', 'rejected', 1, 0, 99);
    metrics.entriesApplied(7);
    metrics.entriesApplied(0);
    const text = await metrics.scrape();
    const oplog = { kind: 'oplog', outcome: 'stored' };
    assert.equal(sample(text, METRIC_NAMES.slices, oplog), 2);
    assert.equal(sample(text, METRIC_NAMES.sliceDocuments, oplog), 15);
    assert.equal(sample(text, METRIC_NAMES.sliceBytes, oplog), 1500);
    assert.equal(sample(text, METRIC_NAMES.slices, { kind: 'initial', outcome: 'rejected' }), 1);
    assert.equal(sample(text, METRIC_NAMES.entriesApplied), 7);
  });

  it('counts failures by error class and retriability', async () => {
    const metrics = new ServiceMetrics('head-builder');
    class LeaseLostError extends TidemarkError {
      override readonly name = 'LeaseLostError';
    }
    metrics.failure(new LeaseLostError('lost', { retriable: true }), true);
    metrics.failure(new LeaseLostError('lost', { retriable: true }), true);
    metrics.failure(new TypeError('x'), false);
    metrics.failure('a string', false);
    const text = await metrics.scrape();
    assert.equal(sample(text, METRIC_NAMES.errors, { class: 'LeaseLostError', retriable: 'true' }), 2);
    assert.equal(sample(text, METRIC_NAMES.errors, { class: 'TypeError', retriable: 'false' }), 1);
    assert.equal(sample(text, METRIC_NAMES.errors, { class: 'string', retriable: 'false' }), 1);
    assert.equal(errorClass(Object.assign(new Error('e'), { name: 'Bad Name!{}' })), 'Bad_Name___');
  });

  it('reads consumer lag, capture positions and job counts on each scrape; a failing source is left out and counted', async () => {
    const metrics = new ServiceMetrics('agent');
    let lag = 3n;
    let fail = false;
    metrics.watchConsumerLag(async () => {
      if (fail) throw new TidemarkError('broker down', { retriable: true });
      return [{ topic: 't.commands', partition: 1, lag }];
    });
    metrics.watchCapture(() => [
      { jobId: 'job-a', sourceTs: { t: 1_700_000_100, i: 1 }, shippedTs: { t: 1_700_000_040, i: 9 } },
    ]);
    let text = await metrics.scrape();
    assert.equal(sample(text, METRIC_NAMES.consumerLag, { topic: 't.commands', partition: '1' }), 3);
    assert.equal(sample(text, METRIC_NAMES.captureLag, { job_id: 'job-a' }), 60);
    assert.equal(sample(text, METRIC_NAMES.sourceOplogTime, { job_id: 'job-a' }), 1_700_000_100);
    lag = 0n;
    text = await metrics.scrape();
    assert.equal(sample(text, METRIC_NAMES.consumerLag, { topic: 't.commands', partition: '1' }), 0);
    fail = true;
    text = await metrics.scrape();
    assert.equal(sample(text, METRIC_NAMES.consumerLag, { topic: 't.commands' }), undefined);
    // Counted during that scrape: visible from the next one.
    text = await metrics.scrape();
    assert.equal(sample(text, METRIC_NAMES.errors, { class: 'TidemarkError', retriable: 'true' }), 2);
  });

  it('job counts: one read per scrape for both gauges', async () => {
    const metrics = new ServiceMetrics('job-state');
    let reads = 0;
    metrics.watchJobs(async () => {
      reads += 1;
      return { byState: { inactive: 1, 'initial-sync': 0, active: 4, stopped: 2 }, resyncRequired: 2 };
    });
    const text = await metrics.scrape();
    assert.equal(reads, 1);
    assert.equal(sample(text, METRIC_NAMES.jobs, { state: 'active' }), 4);
    assert.equal(sample(text, METRIC_NAMES.jobsResyncRequired), 2);
  });

  it('phase durations: observed when a sync moves on', async () => {
    const metrics = new ServiceMetrics('job-state');
    metrics.phaseReported({ jobId: 'j', syncId: 'j-s1', phase: 'starting', at: new Date(0) });
    metrics.phaseReported({ jobId: 'j', syncId: 'j-s1', phase: 'transferring', at: new Date(30_000) });
    const text = await metrics.scrape();
    assert.equal(sample(text, `${METRIC_NAMES.phaseDuration}_count`, { phase: 'starting' }), 1);
    assert.equal(sample(text, `${METRIC_NAMES.phaseDuration}_sum`, { phase: 'starting' }), 30);
    assert.equal(sample(text, `${METRIC_NAMES.phaseDuration}_bucket`, { phase: 'starting', le: '15' }), 0);
    assert.equal(sample(text, `${METRIC_NAMES.phaseDuration}_bucket`, { phase: 'starting', le: '60' }), 1);
  });

  it('the oplog slice stored time of a job, in Unix seconds', async () => {
    const metrics = new ServiceMetrics('slice-ingest');
    metrics.oplogSliceStored('job-a', new Date(1_700_000_000_500));
    const text = await metrics.scrape();
    assert.equal(sample(text, METRIC_NAMES.oplogSliceStoredTime, { job_id: 'job-a' }), 1_700_000_000);
  });
});
