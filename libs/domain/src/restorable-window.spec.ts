import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { oplogGroomPoint, restorableWindow, storedPosition, type WindowSnapshot } from './restorable-window';

const snap = (t: number, i: number, syncId = 'j-s1', wall?: number): WindowSnapshot => ({
  opTime: { t, i },
  syncId,
  ...(wall === undefined ? {} : { opWallTime: new Date(wall) }),
});

describe('the restorable window', () => {
  it('runs from the oldest snapshot to the newest stored position of the newest snapshot sync', () => {
    const snaps = [snap(20, 0), snap(10, 5)];
    assert.deepEqual(
      restorableWindow(snaps, () => ({ from: { t: 1, i: 0 }, to: { opTime: { t: 30, i: 1 } } })),
      { from: { opTime: { t: 10, i: 5 } }, to: { opTime: { t: 30, i: 1 } } },
    );
    // Nothing stored past the newest snapshot (or nothing stored): the window ends at it.
    assert.deepEqual(restorableWindow(snaps, () => undefined)?.to, { opTime: { t: 20, i: 0 } });
    assert.equal(
      restorableWindow([], () => undefined),
      undefined,
    );
  });

  it('starts at the oldest snapshot a replay can start from: not before the stored oplog, not of an older sync', () => {
    const snaps = [snap(5, 0, 'j-s1'), snap(10, 0, 'j-s2'), snap(20, 0, 'j-s2'), snap(30, 0, 'j-s2')];
    const stored = (from: number) => () => ({ from: { t: from, i: 0 }, to: storedPosition({ t: 40, i: 0 }) });
    assert.deepEqual(restorableWindow(snaps, stored(1))?.from, { opTime: { t: 10, i: 0 } });
    assert.deepEqual(restorableWindow(snaps, stored(15))?.from, { opTime: { t: 20, i: 0 } });
    assert.deepEqual(restorableWindow(snaps, stored(20))?.from, { opTime: { t: 20, i: 0 } });
    // Groomed past every snapshot: only the newest remains a start (its restore needs no replay before it).
    assert.deepEqual(restorableWindow(snaps, stored(35))?.from, { opTime: { t: 30, i: 0 } });
    assert.deepEqual(restorableWindow(snaps, stored(1))?.to, {
      opTime: { t: 40, i: 0 },
      wallTime: new Date(40_000),
    });
  });
});

describe('oplogGroomPoint', () => {
  const day = 86_400_000;
  const now = new Date(10 * day);
  it('is the newest snapshot at or before now minus the window, by wall time (else the timestamp seconds)', () => {
    const snaps = [snap(1, 0, 'j-s1', 7 * day), snap(2, 0, 'j-s1', 8.5 * day), snap(3, 0, 'j-s1', 9.5 * day)];
    assert.deepEqual(oplogGroomPoint(snaps, day, now), { t: 2, i: 0 });
    assert.deepEqual(oplogGroomPoint(snaps, 3 * day, now), { t: 1, i: 0 });
    assert.equal(oplogGroomPoint(snaps, 4 * day, now), undefined, 'no snapshot is that old: nothing may go');
    assert.deepEqual(oplogGroomPoint([snap(day / 1000, 7)], day, new Date(2 * day)), { t: day / 1000, i: 7 });
    assert.equal(oplogGroomPoint([], day, now), undefined);
  });
});
