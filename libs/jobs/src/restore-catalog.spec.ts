import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opTime } from '@tidemark/domain';
import {
  RestoreNotAllowedError,
  RestoreValidationError,
  restoreEvent,
  restoreView,
  withCancelRequest,
  withFinish,
  withProgress,
} from './restore-catalog';
import { sampleRestoreEntry } from './restore-catalog.contract';
import {
  parseBeginRestoreRequest,
  parseFinishRestoreRequest,
  parseRestoreProgressRequest,
} from './restore-input';

const t0 = new Date('2026-12-03T10:00:00.000Z');
const t1 = new Date('2026-12-03T10:00:01.000Z');
const entry = sampleRestoreEntry('r-job00001-20261203T100000Z-aaaa', 'job00001', t0);
const p = (documents: number, done = false) => ({
  documents,
  bytes: documents * 100,
  entries: 0,
  namespaces: { 'shop2.orders': { documents, done } },
});

describe('restore state transitions', () => {
  it('a new restore is running, with no progress, revision 1', () => {
    assert.equal(entry.state, 'running');
    assert.equal(entry.cancelRequested, false);
    assert.equal(entry.progress.documents, 0);
    assert.equal(entry.revision, 1);
    assert.equal(entry.endedAt, undefined);
  });

  it('progress moves forward only; the same progress again changes nothing', () => {
    const a = withProgress(entry, p(10), t1)!;
    assert.equal(a.progress.documents, 10);
    assert.equal(a.revision, 2);
    assert.equal(withProgress(a, p(10), t1), undefined);
    assert.throws(
      () => withProgress(a, p(9), t1),
      (e: unknown) => {
        assert.ok(e instanceof RestoreNotAllowedError);
        assert.match(e.message, /progress never goes back: documents went back from 10 to 9/);
        return true;
      },
    );
    const done = withProgress(a, p(12, true), t1)!;
    assert.throws(() => withProgress(done, p(13, false), t1), /shop2.orders was done and is not any more/);
    assert.throws(
      () => withProgress(done, { documents: 20, bytes: 2000, entries: 0, namespaces: {} }, t1),
      /namespace shop2.orders is missing/,
    );
  });

  it('cancel sets the flag once, the restore stays running until it finishes', () => {
    const c = withCancelRequest(entry, t1)!;
    assert.equal(c.cancelRequested, true);
    assert.equal(c.state, 'running');
    assert.equal(withCancelRequest(c, t1), undefined);
    assert.ok(withProgress(c, p(1), t1), 'a restore asked to cancel still reports progress until it stops');
    const cancelled = withFinish(
      c,
      { state: 'cancelled', reason: 'restore cancelled. 1 document written' },
      t1,
    )!;
    assert.equal(cancelled.state, 'cancelled');
    assert.deepEqual(cancelled.endedAt, t1);
  });

  it('a finished restore is never reopened: no progress, no cancel, no other end; the same finish is a no-op', () => {
    const done = withFinish(entry, { state: 'complete', progress: p(5, true) }, t1)!;
    assert.equal(done.state, 'complete');
    assert.equal(done.progress.documents, 5);
    assert.equal(withFinish(done, { state: 'complete' }, t1), undefined);
    assert.throws(
      () => withFinish(done, { state: 'failed', reason: 'x' }, t1),
      /is complete: a finished restore cannot become failed/,
    );
    assert.throws(
      () => withProgress(done, p(6, true), t1),
      /is complete: a finished restore cannot make progress/,
    );
    assert.throws(() => withCancelRequest(done, t1), /is complete: a finished restore cannot be cancelled/);
    assert.throws(
      () => withFinish(withProgress(entry, p(3), t1)!, { state: 'complete', progress: p(2) }, t1),
      /progress never goes back/,
    );
  });

  it('a point-in-time restore learns its snapshot and position when it finishes', () => {
    const pit = {
      ...entry,
      kind: 'point-in-time' as const,
      snapshotId: undefined,
      at: undefined,
      point: '1700000000:9',
    };
    const done = withFinish(
      pit,
      {
        state: 'complete',
        snapshotId: 'job00001-20261203T090000Z-q1w2',
        at: { opTime: opTime(1_700_000_000, 9), wallTime: undefined },
      },
      t1,
    )!;
    assert.equal(done.snapshotId, 'job00001-20261203T090000Z-q1w2');
    assert.deepEqual(done.at?.opTime, opTime(1_700_000_000, 9));
    assert.throws(
      () => withFinish(entry, { state: 'complete', snapshotId: 'other-20261203T090000Z-q1w2' }, t1),
      /restores snapshot/,
    );
  });

  it('views and events carry the summary and never credentials', () => {
    const done = withFinish(withProgress(entry, p(5), t1)!, { state: 'failed', reason: 'E11000' }, t1)!;
    const view = restoreView(done);
    assert.equal(view.id, entry.restoreId);
    assert.equal(view.state, 'failed');
    assert.equal(view.reason, 'E11000');
    assert.deepEqual(view.at, { opTime: '1700000000:7', wallTime: '2023-11-14T22:13:20.000Z' });
    assert.deepEqual(view.namespaces, { 'shop2.orders': { documents: 5, done: false } });
    const event = restoreEvent(done, 'failed', t1);
    assert.equal(event.event, 'failed');
    assert.deepEqual(event.namespaces, [{ namespace: 'shop2.orders', documents: 5, done: false }]);
    assert.deepEqual(event.renames, ['shop=shop2']);
  });
});

describe('restore request bodies', () => {
  it('takes a snapshot restore and a point-in-time restore', () => {
    assert.deepEqual(parseBeginRestoreRequest({ snapshotId: 's', target: 'mongodb://h/' }), {
      snapshotId: 's',
      target: 'mongodb://h/',
      selection: { include: [], exclude: [], renames: [] },
      drop: false,
    });
    const pit = parseBeginRestoreRequest({
      jobId: 'job00001',
      point: '2026-12-03T10:00:00Z',
      target: 'mongodb+srv://u:p@h/',
      include: ['shop'],
      renames: ['shop=shop2'],
      drop: true,
    });
    assert.equal(pit.point, '2026-12-03T10:00:00Z');
    assert.equal(pit.drop, true);
  });

  it('lists every problem of a bad begin', () => {
    assert.throws(
      () =>
        parseBeginRestoreRequest({
          snapshotId: 's',
          point: 'yesterday',
          target: 'http://x',
          renames: ['a'],
          drop: 'yes',
          extra: 1,
        }),
      (e: unknown) => {
        assert.ok(e instanceof RestoreValidationError);
        assert.deepEqual(e.problems, [
          'extra is not a field (it takes snapshotId, jobId, point, target, include, exclude, renames, drop)',
          'snapshotId and point exclude each other: a restore is of a snapshot or of a point in time',
          'a point-in-time restore needs jobId',
          'point "yesterday" is neither an ISO instant with a timezone nor an oplog position t:i',
          'target must be a mongodb:// or mongodb+srv:// URI, or a file:// URI (a dump directory or archive)',
          'rename "a" is not FROM=TO',
          'drop must be true or false',
        ]);
        return true;
      },
    );
    assert.throws(() => parseBeginRestoreRequest([]), /the body must be a JSON object/);
    assert.throws(() => parseBeginRestoreRequest({ target: 'mongodb://h/' }), /give snapshotId/);
  });

  it('checks progress and finish bodies', () => {
    assert.deepEqual(parseRestoreProgressRequest(p(3)), p(3));
    assert.throws(
      () => parseRestoreProgressRequest({ ...p(3), documents: -1 }),
      /progress.documents must be a whole number >= 0/,
    );
    assert.throws(
      () => parseRestoreProgressRequest({ ...p(3), namespaces: { nodot: { documents: 1, done: true } } }),
      /is not db.coll/,
    );
    assert.deepEqual(
      parseFinishRestoreRequest({ state: 'complete', at: { opTime: '5:1', wallTime: null } }),
      {
        state: 'complete',
        at: { opTime: opTime(5, 1), wallTime: undefined },
      },
    );
    assert.throws(() => parseFinishRestoreRequest({ state: 'failed' }), /a failed restore needs a reason/);
    assert.throws(
      () => parseFinishRestoreRequest({ state: 'running' }),
      /state must be one of complete, failed, cancelled/,
    );
    assert.throws(() => parseFinishRestoreRequest({ state: 'complete', at: { opTime: 'x' } }), /at.opTime/);
  });
});
