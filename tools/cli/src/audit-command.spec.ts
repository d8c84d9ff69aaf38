import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEventView } from '@tidemark/access';
import { formatAuditLine, runAuditCommand } from './audit-command';

const usage = (m: string) => new Error(`usage: ${m}`);

const refused: AuditEventView = {
  eventId: 'e1',
  at: '2026-12-04T10:00:00.000Z',
  actor: '0123456789ab',
  project: 'shop',
  action: 'job.restart',
  resource: { kind: 'job', id: 'j1' },
  outcome: 'REFUSED',
  status: 409,
  stateBefore: 'active',
  stateAfter: null,
  reason: 'job j1: action "restart" is not allowed in state "active"',
  method: 'POST',
  path: '/api/v1/jobs/j1/restart',
  requestId: 'r1',
  clientAddress: '127.0.0.1',
};

describe('tidemark audit list', () => {
  it('prints one line per event: time, outcome, status, action, resource, actor, states, reason', () => {
    assert.equal(
      formatAuditLine(refused),
      '2026-12-04T10:00:00.000Z  REFUSED 409  job.restart  job j1  by 0123456789ab  state active' +
        '  reason "job j1: action \\"restart\\" is not allowed in state \\"active\\""\n',
    );
    assert.equal(
      formatAuditLine({
        ...refused,
        outcome: 'ACCEPTED',
        status: 200,
        action: 'job.start',
        stateBefore: 'inactive',
        stateAfter: 'initial-sync',
        reason: null,
      }),
      '2026-12-04T10:00:00.000Z  ACCEPTED 200  job.start  job j1  by 0123456789ab  state inactive -> initial-sync\n',
    );
    assert.equal(
      formatAuditLine({ ...refused, resource: { kind: 'api', id: null }, stateBefore: null, reason: null }),
      '2026-12-04T10:00:00.000Z  REFUSED 409  job.restart  api  by 0123456789ab\n',
    );
  });

  it('refuses wrong usage before any request', async () => {
    await assert.rejects(runAuditCommand([], usage), /unknown audit command \(none\)/);
    await assert.rejects(runAuditCommand(['list'], usage), /needs --project P/);
    await assert.rejects(runAuditCommand(['list', '--project', 'p', '--limit', '0'], usage), /--limit/);
    await assert.rejects(runAuditCommand(['list', '--project', 'p', 'extra'], usage), /no arguments/);
    await assert.rejects(runAuditCommand(['list', '--project', 'p', '--nope'], usage), /unknown option/);
  });
});
