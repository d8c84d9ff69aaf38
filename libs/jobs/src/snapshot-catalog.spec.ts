import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SnapshotEvent } from '@tidemark/domain';
import { foldSnapshotEvent, requestedEntry, snapshotView } from './snapshot-catalog';

const now = new Date('2026-12-03T12:00:00Z');
const id = 'job00001-20261203T120000Z-aaaa';

function event(kind: SnapshotEvent['event'], overrides: Partial<SnapshotEvent> = {}): SnapshotEvent {
  return {
    event: kind,
    jobId: 'job00001',
    snapshotId: id,
    syncId: 'job00001-s1',
    store: 'filesystem',
    opTime: { t: 100, i: 2 },
    takenAt: new Date('2026-12-03T12:00:00Z'),
    ...(kind === 'completed'
      ? { completedAt: new Date('2026-12-03T12:00:05Z'), manifestChecksum: 'c'.repeat(64) }
      : {}),
    logicalBytes: kind === 'started' ? 0 : 1000,
    storedBytes: kind === 'started' ? 0 : 400,
    namespaceCount: 2,
    documentCount: kind === 'started' ? 0 : 10,
    at: new Date('2026-12-03T12:00:06Z'),
    ...overrides,
  };
}

describe('snapshot catalog folding', () => {
  it('goes requested -> in-progress -> complete, and a late or repeated event changes nothing', () => {
    let entry = requestedEntry('job00001', id, 'filesystem', now);
    entry = foldSnapshotEvent(entry, event('started'), now)!;
    assert.equal(entry.state, 'in-progress');
    entry = foldSnapshotEvent(entry, event('completed'), now)!;
    assert.equal(entry.state, 'complete');
    assert.equal(entry.logicalBytes, 1000);
    assert.equal(foldSnapshotEvent(entry, event('started'), now), undefined);
    assert.equal(foldSnapshotEvent(entry, event('completed'), now), undefined);
    assert.equal(foldSnapshotEvent(entry, event('failed', { reason: 'late' }), now), undefined);
    const view = snapshotView(entry);
    assert.equal(view.opTime, '100:2');
    assert.equal(view.state, 'complete');
  });

  it('creates the entry from an event of a scheduled snapshot, and expiry keeps the summary', () => {
    const started = foldSnapshotEvent(undefined, event('completed'), now)!;
    assert.equal(started.state, 'complete');
    assert.equal(started.requestedAt, undefined);
    const expired = foldSnapshotEvent(started, event('expired', { reason: 'retention' }), now)!;
    assert.equal(expired.state, 'expired');
    assert.equal(expired.reason, 'retention');
    assert.equal(expired.documents, 10);
    assert.equal(foldSnapshotEvent(expired, event('completed'), now), undefined);
  });

  it('keeps the newest verify result without changing the state', () => {
    const complete = foldSnapshotEvent(undefined, event('completed'), now)!;
    const damaged = foldSnapshotEvent(
      complete,
      event('verified', { verify: { ok: false, damagedBlocks: 1 }, reason: 'block x', requestId: 'r1' }),
      now,
    )!;
    assert.equal(damaged.state, 'complete');
    assert.deepEqual(
      { ok: damaged.lastVerify?.ok, n: damaged.lastVerify?.damagedBlocks, r: damaged.lastVerify?.requestId },
      { ok: false, n: 1, r: 'r1' },
    );
    const older = event('verified', {
      verify: { ok: true, damagedBlocks: 0 },
      at: new Date('2026-12-03T11:00:00Z'),
    });
    assert.equal(foldSnapshotEvent(damaged, older, now), undefined);
  });
});
