import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEntryView } from '@tidemark/jobs';
import { formatAlertLine, runAlertCommand } from './alert-command';

const usage = (message: string) => new Error(`usage: ${message}`);

const alert: AlertEntryView = {
  alertId: 'al-1',
  jobId: 'job7f3a1',
  project: 'shop',
  code: 'SNAPSHOT_FAILED',
  subject: 'job7f3a1',
  severity: 'critical',
  state: 'closed',
  message: 'snapshot s1 failed: fence busy',
  context: {},
  openedAt: '2026-12-04T10:00:00.000Z',
  closedAt: '2026-12-04T11:00:00.000Z',
  closeReason: 'snapshot s2 completed',
};

describe('tidemark alert', () => {
  it('shows one line per alert: opened, state, severity, code, job, subject, message, and why it closed', () => {
    assert.equal(
      formatAlertLine(alert),
      '2026-12-04T10:00:00.000Z  CLOSED  critical  SNAPSHOT_FAILED  job7f3a1  job7f3a1  ' +
        'snapshot s1 failed: fence busy  closed 2026-12-04T11:00:00.000Z: snapshot s2 completed\n',
    );
    const open = formatAlertLine({ ...alert, jobId: null, state: 'open', closedAt: null, closeReason: null });
    assert.match(
      open,
      /^\S+ {2}OPEN {2}critical {2}SNAPSHOT_FAILED {2}- {2}job7f3a1 {2}snapshot s1 failed: fence busy\n$/,
    );
  });

  it('refuses wrong usage before calling the API', async () => {
    await assert.rejects(runAlertCommand([], usage), /unknown alert command \(none\)/);
    await assert.rejects(runAlertCommand(['show'], usage), /unknown alert command "show"/);
    await assert.rejects(runAlertCommand(['list'], usage), /alert list needs --project P/);
    await assert.rejects(
      runAlertCommand(['list', '--project', 'a', '--project', 'b'], usage),
      /--project may be given once/,
    );
    await assert.rejects(
      runAlertCommand(['list', '--project', 'a', '--state', 'x'], usage),
      /unknown option --state/,
    );
    await assert.rejects(
      runAlertCommand(['list', '--project', 'a', 'extra'], usage),
      /unexpected argument extra/,
    );
  });
});
