import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, Timestamp } from 'mongodb';
import { applyUserAction, foldAlert, foldPhaseReport, newJobRecord, type JobRecord } from '@tidemark/jobs';
import { UnknownFormatVersionError } from '@tidemark/domain';
import { fromJobDocument, JOB_DOCUMENT_FORMAT, toJobDocument } from './job-document';

const now = new Date('2026-03-01T00:00:00.000Z');

function richJob(): JobRecord {
  let job = newJobRecord(
    { project: 'shop', sourceUri: 'mongodb://s/', include: ['app'], exclude: ['app.tmp'] },
    'abcd1234',
    now,
  );
  let n = 0;
  job = applyUserAction(job, 'start', { now, messageId: () => `m${++n}` });
  const folded = foldPhaseReport(job, {
    jobId: job.id,
    syncId: 'abcd1234-s1',
    phase: 'transferring',
    stage: 'agent',
    progress: {
      docsCopied: 9_007_199_254_740_993n,
      docsTotal: null,
      bytesCopied: 1n,
      bytesTotal: 2n,
      namespaces: [
        { namespace: 'app.users', docsCopied: 1n, docsTotal: 2n, bytesCopied: 3n, bytesTotal: null },
      ],
    },
    appliedTs: undefined,
    sourceTs: { t: 4_000_000_000, i: 7 },
    details: { 'odd.$key': 'kept', startTs: '1.2' },
    at: now,
  });
  assert.ok(folded.outcome === 'applied');
  const alerted = foldAlert(folded.job, {
    alertId: 'a-1',
    jobId: job.id,
    severity: 'critical',
    code: 'SLICE_REJECTED',
    message: 'bad',
    context: { 'a.b': 'c' },
    at: now,
  });
  assert.ok(alerted.outcome === 'applied');
  return alerted.job;
}

describe('job document mapping', () => {
  it('round-trips a job through BSON with Int64 counters, Timestamps and odd keys intact', () => {
    const job = richJob();
    const doc = toJobDocument(job);
    assert.equal(doc.pendingEffects, true, 'the START command is still in the outbox');
    assert.deepEqual(doc.details, [
      { key: 'odd.$key', value: 'kept' },
      { key: 'startTs', value: '1.2' },
    ]);
    // One mapper serves both directions: check the stored layout too, not only the round trip.
    assert.deepEqual(doc.alerts[0]?.context, [{ key: 'a.b', value: 'c' }]);
    assert.ok(doc.sourceTs instanceof Timestamp);
    const [pending] = doc.outbox;
    assert.ok(pending?.kind === 'command' && pending.command.params.every((p) => 'key' in p && 'value' in p));
    const bytes = BSON.serialize(doc);
    const read = BSON.deserialize(bytes, { useBigInt64: true }) as typeof doc;
    assert.deepEqual(fromJobDocument(read), job);
  });

  it('stores unset values as null and reads them back as undefined', () => {
    const job = newJobRecord(
      { project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] },
      'abcd1234',
      now,
    );
    const doc = toJobDocument(job);
    assert.equal(doc.phase, null);
    assert.equal(doc.syncId, null);
    assert.equal(doc.sourceTs, null);
    assert.equal(doc.blocked, null);
    assert.equal(doc.pendingEffects, false);
    assert.deepEqual(
      fromJobDocument(BSON.deserialize(BSON.serialize(doc), { useBigInt64: true }) as typeof doc),
      job,
    );
  });
});

describe('job document format version', () => {
  const job = () =>
    newJobRecord({ project: 'p', sourceUri: 'mongodb://s/', include: [], exclude: [] }, 'abcd1234', now);

  it('writes version 3 with the read limit, and reads a version-2 document as uncapped', () => {
    const capped = { ...job(), readLimit: 2.5 };
    const doc = toJobDocument(capped);
    assert.equal(doc.v, JOB_DOCUMENT_FORMAT.current);
    assert.equal(JOB_DOCUMENT_FORMAT.current, 3);
    assert.deepEqual(JOB_DOCUMENT_FORMAT.reads, [1, 2, 3]);
    assert.equal(doc.readLimit, 2.5);
    const read = BSON.deserialize(BSON.serialize(doc), { useBigInt64: true }) as typeof doc;
    assert.deepEqual(fromJobDocument(read), capped);
    const uncapped = toJobDocument(job());
    assert.equal(uncapped.readLimit, null, 'no limit is stored as null');
    assert.deepEqual(fromJobDocument(uncapped), job());
    assert.equal('readLimit' in fromJobDocument(uncapped), false);
    const { readLimit: _r, ...v2 } = { ...doc, v: 2 };
    assert.deepEqual(fromJobDocument(v2), job(), 'format 2 knew no limit: uncapped');
  });

  it('reads a version-1 document (or one without v) as the same schedule in minutes', () => {
    const doc = toJobDocument(job());
    const { v: _v, snapshotStore: _s, readLimit: _r, ...rest } = doc;
    const v1 = {
      ...rest,
      schedule: {
        intervalHours: 12,
        retention: { snapshots: 2, daily: 7, weekly: 4, monthly: 12 },
        pointInTimeWindowHours: 24,
      },
    };
    const expected = {
      ...job(),
      schedule: {
        intervalMinutes: 720,
        retention: { baseMinutes: 1440, daily: 7, weekly: 4, monthly: 12 },
        pointInTimeWindowHours: 24,
      },
      snapshotStore: { kind: 'blockstore' },
    };
    assert.deepEqual(fromJobDocument(v1), expected);
    assert.deepEqual(fromJobDocument({ ...v1, v: 1 }), expected);
  });

  it('refuses a version it does not read before interpreting anything else', () => {
    const doc = { ...toJobDocument(job()), v: 4, filters: undefined } as unknown as ReturnType<
      typeof toJobDocument
    >;
    assert.throws(
      () => fromJobDocument(doc, 'tidemark_meta.jobs _id "abcd1234"'),
      (err: unknown) =>
        err instanceof UnknownFormatVersionError &&
        err.recordKind === 'job' &&
        err.found === 4 &&
        err.where === 'tidemark_meta.jobs _id "abcd1234"' &&
        !err.retriable,
    );
  });
});
