import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { AUDIT_OUTCOMES, SchemaMismatchError, type AuditEvent } from '@tidemark/domain';
import { auditEventOf, auditEventRecord } from './audit-mapping';
import { defaultCodec } from './codec';
import { fromFixtureJson, type FixtureFile } from './fixture-json';
import { defaultSchemasDir, fixturePath } from './schema-files';
import { resolveTopics } from './topics';
import { AVRO_AUDIT_OUTCOME_SYMBOLS, type AuditEvent as AuditEventRecord } from './types';

const codec = defaultCodec();

const accepted: AuditEvent = {
  eventId: '6a0e4c1e-0b7d-4f7b-9d7e-2f1f3c9a8b01',
  at: new Date('2026-12-03T10:00:00.000Z'),
  actor: '0123456789ab',
  project: 'shop',
  action: 'job.start',
  resource: { kind: 'job', id: 'job00001' },
  outcome: 'accepted',
  status: 200,
  stateBefore: 'inactive',
  stateAfter: 'initial-sync',
  reason: undefined,
  method: 'POST',
  path: '/api/v1/jobs/job00001/start',
  requestId: 'req-1',
  clientAddress: '127.0.0.1',
};

/** A refused credential: no project, no resource id, no state, no address. */
const refused: AuditEvent = {
  ...accepted,
  actor: 'anonymous',
  project: undefined,
  action: 'auth',
  resource: { kind: 'api', id: undefined },
  outcome: 'refused',
  status: 401,
  stateBefore: undefined,
  stateAfter: undefined,
  reason: 'unknown API key',
  clientAddress: undefined,
};

describe('audit event mapping', () => {
  it('maps every outcome both ways, symbol for symbol', () => {
    assert.deepEqual(
      AUDIT_OUTCOMES.map((o) => auditEventRecord({ ...accepted, outcome: o }).outcome),
      [...AVRO_AUDIT_OUTCOME_SYMBOLS],
    );
  });

  it('round-trips through Avro bytes, optional fields absent or present', () => {
    for (const event of [accepted, refused]) {
      const bytes = codec.encode('tidemark.audit.AuditEvent', auditEventRecord(event));
      assert.deepEqual(auditEventOf(codec.decodeAs('tidemark.audit.AuditEvent', bytes, 'spec')), event);
    }
  });

  it('refuses a status that is not an HTTP status', () => {
    assert.throws(() => auditEventRecord({ ...accepted, status: 42 }), SchemaMismatchError);
    assert.throws(() => auditEventRecord({ ...accepted, status: 200.5 }), SchemaMismatchError);
  });

  it('reads the golden fixture: a refused restart with the state it was refused in, the key id only', () => {
    const file = fixturePath(defaultSchemasDir(), 'tidemark.audit.AuditEvent', 1);
    const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
    const type = codec.registry.record('tidemark.audit.AuditEvent').current.type;
    const event = auditEventOf(fromFixtureJson(type, fixture.value) as AuditEventRecord);
    assert.equal(event.outcome, 'refused');
    assert.equal(event.status, 409);
    assert.equal(event.stateBefore, 'active');
    assert.match(event.actor, /^[0-9a-f]{12}$/);
  });

  it('is keyed by project (`-` for none) on tidemark.audit, which job-state produces', () => {
    const topics = resolveTopics({ env: {} });
    assert.equal(topics.audit.name, 'tidemark.audit');
    assert.equal(topics.audit.keyOf(auditEventRecord(accepted)), 'shop');
    assert.equal(topics.audit.keyOf(auditEventRecord(refused)), '-');
    assert.deepEqual(topics.audit.producers, ['job-state']);
    assert.equal(resolveTopics({ prefix: 'p1', env: {} }).audit.name, 'p1.tidemark.audit');
  });
});
