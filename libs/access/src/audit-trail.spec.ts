import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auditActionOf, AuditTrail, shouldAudit, type AuditedRequest } from './audit-trail';

const ADMIN_KEY = 'admin-'.padEnd(40, 'a');
const SECRET_KEY = `tmk_0123456789ab_${'S'.repeat(43)}`;

const trail = new AuditTrail({
  secrets: [ADMIN_KEY],
  now: () => new Date('2026-12-04T10:00:00.000Z'),
  newId: () => 'e-1',
});

const base: AuditedRequest = {
  method: 'POST',
  path: '/api/v1/jobs/job00001/start',
  status: 200,
  requestId: 'r-1',
  clientAddress: '127.0.0.1',
  actor: '0123456789ab',
  project: 'shop',
  reason: undefined,
  stateBefore: 'inactive',
  stateAfter: 'initial-sync',
  createdId: undefined,
};

describe('what the audit trail records', () => {
  it('every mutating request, accepted or refused, and every refused request; not successful reads', () => {
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      assert.ok(shouldAudit(m, 200), m);
      assert.ok(shouldAudit(m, 409), m);
    }
    assert.equal(shouldAudit('GET', 200), false);
    assert.equal(shouldAudit('GET', 304), false);
    for (const s of [400, 401, 403, 404, 409, 429, 500, 503]) assert.ok(shouldAudit('GET', s), String(s));
    assert.equal(trail.eventFor({ ...base, method: 'GET', path: '/api/v1/jobs', status: 200 }), undefined);
  });

  it("the agent's capture report (telemetry every few seconds) only when refused", () => {
    assert.equal(shouldAudit('POST', 204, '/api/v1/agent/capture'), false);
    assert.equal(shouldAudit('POST', 401, '/api/v1/agent/capture'), true);
    assert.equal(shouldAudit('POST', 200, '/api/v1/agent/jobs'), true);
    assert.equal(
      trail.eventFor({ ...base, method: 'POST', path: '/api/v1/agent/capture?x=1', status: 204 }),
      undefined,
    );
  });

  it('names the action and resource from the method and path', () => {
    const cases: [string, string, string, string, string | undefined][] = [
      ['POST', '/api/v1/jobs', 'job.create', 'job', undefined],
      ['POST', '/api/v1/jobs/j1/start', 'job.start', 'job', 'j1'],
      ['POST', '/api/v1/jobs/j1/terminate', 'job.terminate', 'job', 'j1'],
      ['PATCH', '/api/v1/jobs/j1/settings', 'job.settings', 'job', 'j1'],
      ['POST', '/api/v1/jobs/j1/snapshots', 'snapshot.take', 'job', 'j1'],
      ['POST', '/api/v1/snapshots/s1/verify', 'snapshot.verify', 'snapshot', 's1'],
      ['DELETE', '/api/v1/snapshots/s1', 'snapshot.delete', 'snapshot', 's1'],
      ['POST', '/api/v1/restores', 'restore.begin', 'restore', undefined],
      ['POST', '/api/v1/restores/r1/cancel', 'restore.cancel', 'restore', 'r1'],
      ['POST', '/api/v1/projects', 'project.create', 'project', undefined],
      ['DELETE', '/api/v1/projects/shop', 'project.delete', 'project', 'shop'],
      ['POST', '/api/v1/keys', 'key.create', 'key', undefined],
      ['DELETE', '/api/v1/keys/0123456789ab', 'key.revoke', 'key', '0123456789ab'],
      ['GET', '/api/v1/jobs/j1/status', 'job.read', 'job', 'j1'],
      ['GET', '/api/v1/projects/shop/audit', 'audit.read', 'project', 'shop'],
      ['POST', '/api/v1/jobs/j1/Bad%20Verb', 'job.unknown', 'job', 'j1'],
      ['GET', '/nowhere', 'api.unknown', 'api', undefined],
    ];
    for (const [method, path, action, kind, id] of cases) {
      assert.deepEqual(auditActionOf(method, path), { action, resource: { kind, id } }, `${method} ${path}`);
    }
  });

  it('builds an accepted job action with its states, the key id as actor', () => {
    assert.deepEqual(trail.eventFor(base), {
      eventId: 'e-1',
      at: new Date('2026-12-04T10:00:00.000Z'),
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
      requestId: 'r-1',
      clientAddress: '127.0.0.1',
    });
  });

  it('builds a refusal with its reason and no state after; a refused credential is `auth`', () => {
    const refused = trail.eventFor({ ...base, status: 409, reason: 'not allowed in state "active"' });
    assert.equal(refused?.outcome, 'refused');
    assert.equal(refused?.reason, 'not allowed in state "active"');
    assert.equal(refused?.stateAfter, undefined);
    const auth = trail.eventFor({ ...base, status: 401, actor: undefined, project: undefined, reason: 'x' });
    assert.equal(auth?.action, 'auth');
    assert.equal(auth?.actor, 'anonymous');
    assert.equal(trail.eventFor({ ...base, status: 429 })?.action, 'auth');
  });

  it('takes a created resource id from the answer, and a project route its project', () => {
    const created = trail.eventFor({ ...base, path: '/api/v1/jobs', status: 201, createdId: 'newjob01' });
    assert.deepEqual(created?.resource, { kind: 'job', id: 'newjob01' });
    const project = trail.eventFor({
      ...base,
      path: '/api/v1/projects/p2',
      method: 'DELETE',
      project: undefined,
    });
    assert.equal(project?.project, 'p2');
  });

  it('never carries a key, a bearer token or a known secret; only known actor shapes', () => {
    const event = trail.eventFor({
      ...base,
      status: 400,
      path: `/api/v1/keys/${SECRET_KEY}`,
      actor: SECRET_KEY,
      reason: `bad: ${SECRET_KEY} Bearer ${ADMIN_KEY} and ${ADMIN_KEY}; ${'x'.repeat(5_000)}`,
    });
    const text = JSON.stringify(event);
    assert.ok(!text.includes('S'.repeat(43)), text.slice(0, 300));
    assert.ok(!text.includes(ADMIN_KEY));
    assert.equal(event?.actor, 'anonymous');
    assert.match(event?.reason ?? '', /^bad: tmk_0123456789ab_<redacted> Bearer <redacted> and <redacted>;/);
    assert.ok((event?.reason ?? '').length <= 1_000);
    assert.equal(trail.redact(`Bearer ${SECRET_KEY}`), 'Bearer <redacted>');
  });
});
