import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, AuditEventPublisher } from '@tidemark/domain';
import { AuditLog, MemoryAuditStore, type AuditStore } from './audit-log';

function event(n: number, project = 'shop'): AuditEvent {
  return {
    eventId: `e-${String(n).padStart(3, '0')}`,
    at: new Date(Date.parse('2026-12-04T10:00:00.000Z') + n * 1000),
    actor: 'admin',
    project,
    action: 'job.start',
    resource: { kind: 'job', id: 'j1' },
    outcome: 'accepted',
    status: 200,
    stateBefore: 'inactive',
    stateAfter: 'initial-sync',
    reason: undefined,
    method: 'POST',
    path: '/api/v1/jobs/j1/start',
    requestId: `r-${n}`,
    clientAddress: '127.0.0.1',
  };
}

/** A bus that can be taken down. */
class Bus implements AuditEventPublisher {
  up = true;
  readonly sent: string[] = [];
  publish(e: AuditEvent): Promise<void> {
    if (!this.up) return Promise.reject(new Error('broker unreachable'));
    this.sent.push(e.eventId);
    return Promise.resolve();
  }
}

function world(store: AuditStore = new MemoryAuditStore()) {
  const bus = new Bus();
  const unstored: AuditEvent[] = [];
  const warnings: string[] = [];
  const log = new AuditLog({
    store,
    publisher: bus,
    unstored: (e) => unstored.push(e),
    warn: (l) => warnings.push(l),
  });
  return { log, bus, store, unstored, warnings };
}

describe('AuditLog', () => {
  it('stores each event and publishes it; lists newest first, per project, before a time', async () => {
    const { log, bus, store } = world();
    for (let i = 1; i <= 4; i++) await log.record(event(i, i === 3 ? 'other' : 'shop'));
    await log.idle();
    assert.deepEqual(bus.sent, ['e-001', 'e-002', 'e-003', 'e-004']);
    assert.deepEqual(await store.owed(10), []);
    assert.deepEqual(
      (await log.list({ project: 'shop', limit: 10 })).map((e) => e.eventId),
      ['e-004', 'e-002', 'e-001'],
    );
    assert.deepEqual(
      (await log.list({ before: event(3).at, limit: 1 })).map((e) => e.eventId),
      ['e-002'],
    );
  });

  it('keeps events owed while the bus is down and publishes them, oldest first, once it answers', async () => {
    const { log, bus, store, warnings } = world();
    bus.up = false;
    await log.record(event(1));
    await log.record(event(2));
    await log.idle();
    assert.deepEqual(bus.sent, []);
    assert.deepEqual(
      (await store.owed(10)).map((e) => e.eventId),
      ['e-001', 'e-002'],
    );
    assert.ok(warnings.some((w) => /stay owed/.test(w)));
    await assert.rejects(log.flushOwed(), /stay owed/);
    bus.up = true;
    assert.equal(await log.flushOwed(), 2);
    assert.deepEqual(bus.sent, ['e-001', 'e-002']);
    assert.deepEqual(await store.owed(10), []);
  });

  it('an event the store refuses is published directly and handed over, never dropped silently', async () => {
    const broken: AuditStore = Object.assign(new MemoryAuditStore(), {
      insert: () => Promise.reject(new Error('mongo down')),
    });
    const { log, bus, unstored } = world(broken);
    await log.record(event(7));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      unstored.map((e) => e.eventId),
      ['e-007'],
    );
    assert.deepEqual(bus.sent, ['e-007']);
  });
});
