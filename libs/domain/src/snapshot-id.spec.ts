import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSnapshotId, jobIdOfSnapshot, newSnapshotId } from './snapshot-id';

describe('snapshot ids', () => {
  it('name their job and time, sort by time, and read back', () => {
    const a = newSnapshotId('k3x9a0b2', new Date('2026-12-03T12:00:00.123Z'), () => 0);
    assert.equal(a, 'k3x9a0b2-20261203T120000Z-aaaa');
    const b = newSnapshotId('k3x9a0b2', new Date('2026-12-03T12:00:01Z'));
    assert.ok(a < b);
    assert.equal(jobIdOfSnapshot(b), 'k3x9a0b2');
    assert.ok(isSnapshotId(b));
  });

  it('refuses what is not one', () => {
    for (const bad of ['', 'k3x9a0b2', '../x-20261203T120000Z-aaaa', 'k3x9a0b2-20261203T120000Z-AAAA', 42]) {
      assert.equal(isSnapshotId(bad), false, String(bad));
    }
    assert.equal(jobIdOfSnapshot('nope'), undefined);
  });
});
