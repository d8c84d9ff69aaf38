import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { restorableWindow } from '@tidemark/domain';
import type { RestoreSnapshot } from './ports';
import {
  chooseSnapshot,
  OutsideRestorableWindowError,
  parseRestorePoint,
  RestorePointError,
} from './restore-point';

const snap = (id: string, t: number, i: number, wall?: string): RestoreSnapshot => ({
  snapshotId: id,
  jobId: 'j',
  syncId: 'j-s1',
  opTime: { t, i },
  ...(wall === undefined ? {} : { opWallTime: new Date(wall) }),
  namespaces: [],
});

describe('restore points and the restorable window', () => {
  it('parses t:i and ISO instants with a timezone; refuses anything else', () => {
    assert.deepEqual(parseRestorePoint('1700000000:3'), {
      kind: 'op-time',
      opTime: { t: 1700000000, i: 3 },
      text: '1700000000:3',
    });
    const p = parseRestorePoint('2026-12-03T17:00:00.250+01:00');
    assert.equal(p.kind, 'instant');
    assert.equal(p.kind === 'instant' && p.at.toISOString(), '2026-12-03T16:00:00.250Z');
    for (const bad of [
      'yesterday',
      '2026-12-03T17:00:00',
      '2026-12-03',
      '1:2:3',
      '99999999999:1',
      '2026-13-40T00:00:00Z',
    ]) {
      assert.throws(() => parseRestorePoint(bad), RestorePointError, bad);
    }
  });

  it('chooses the newest snapshot at or before the point; refuses before, after, in the future, and with none', () => {
    const snaps = [snap('a', 10, 0, '1970-01-01T00:00:10Z'), snap('b', 20, 0, '1970-01-01T00:00:20Z')];
    const window = restorableWindow(snaps, () => ({
      from: { t: 5, i: 0 },
      to: { opTime: { t: 30, i: 0 }, wallTime: new Date(30_000) },
    }));
    const now = new Date(1_000_000);
    const choose = (text: string) => chooseSnapshot(snaps, window, parseRestorePoint(text), now).snapshotId;
    assert.equal(choose('10:0'), 'a');
    assert.equal(choose('19:99'), 'a');
    assert.equal(choose('20:0'), 'b');
    assert.equal(choose('30:0'), 'b');
    assert.equal(choose('1970-01-01T00:00:15Z'), 'a');
    assert.equal(choose('1970-01-01T00:00:20Z'), 'b');
    const refused = (text: string, reason: RegExp) =>
      assert.throws(
        () => chooseSnapshot(snaps, window, parseRestorePoint(text), now),
        (err: unknown) =>
          err instanceof OutsideRestorableWindowError &&
          reason.test(err.message) &&
          /restorable window is 10:0 \(1970-01-01T00:00:10.000Z\) to 30:0/.test(err.message) &&
          /Nothing was written/.test(err.message),
      );
    refused('9:7', /before the oldest retained snapshot/);
    refused('30:1', /after the newest stored oplog position/);
    refused('1970-01-01T00:00:31Z', /after the newest stored oplog position/);
    refused('2100-01-01T00:00:00Z', /in the future/);
    assert.throws(() => chooseSnapshot([], undefined, parseRestorePoint('1:1'), now), /no complete snapshot/);
  });
});
