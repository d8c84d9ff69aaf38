import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffMs,
  describeLag,
  formatBytes,
  parseEvents,
  phaseBar,
  restoreCommand,
  shellQuote,
  terminateSummary,
  withoutSecrets,
} from '../../assets/backup-page/page-logic.mjs';

describe('Backup page logic', () => {
  it('shows a target URI without its password or secret options, keeping the user name', () => {
    assert.deepEqual(withoutSecrets('mongodb://alice:s3cret@h1:27017,h2:27017/?replicaSet=rs0'), {
      ok: true,
      uri: 'mongodb://alice@h1:27017,h2:27017/?replicaSet=rs0',
      removed: true,
    });
    assert.deepEqual(withoutSecrets('mongodb+srv://c.example/?tlsCertificateKeyFilePassword=x&w=majority'), {
      ok: true,
      uri: 'mongodb+srv://c.example/?w=majority',
      removed: true,
    });
    assert.equal(withoutSecrets('mongodb://h/').removed, false);
    assert.equal(withoutSecrets('http://h/').ok, false);
    assert.equal(withoutSecrets('mongodb:///db').ok, false);
  });

  it('builds the exact restore command line, quoted for a shell, with no password in it', () => {
    const made = restoreCommand({
      snapshotId: 'k3x9a0b2-20261204T101500Z-ab12',
      target: 'mongodb://bob:pa ss@target:27017/?replicaSet=rs0',
      include: ['shop', ' shop.orders ', ''],
      drop: true,
    });
    assert.equal(made.ok, true);
    assert.equal(
      made.command,
      "npx tidemark restore --snapshot k3x9a0b2-20261204T101500Z-ab12 --to 'mongodb://bob@target:27017/?replicaSet=rs0' --include shop --include shop.orders --drop",
    );
    assert.equal(made.passwordRemoved, true);
    assert.ok(!made.command.includes('pa ss'));
    const plain = restoreCommand({ snapshotId: 's1', target: 'mongodb://t/', include: [], drop: false });
    assert.equal(plain.command, 'npx tidemark restore --snapshot s1 --to mongodb://t/');
  });

  it('lists every problem of a restore form instead of a command', () => {
    const made = restoreCommand({ snapshotId: '', target: 'postgres://x', include: ['a b'], drop: false });
    assert.equal(made.ok, false);
    assert.equal(made.command, '');
    assert.equal(made.problems.length, 3, made.problems.join('; '));
  });

  it('quotes a shell word only when needed, and a quote inside it', () => {
    assert.equal(shellQuote('abc-1.2:3'), 'abc-1.2:3');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote('a;rm -rf'), `'a;rm -rf'`);
  });

  it('says what a terminate deletes, with counts and sizes', () => {
    const lines = terminateSummary(
      { id: 'j1' },
      { restorableWindow: null },
      {
        snapshots: { count: 2, storedBytes: '2000000' },
        oplogSlices: { count: 1, bytes: '3500000' },
        headDatabases: ['th_j1_2_shop', 'th_j1_2_crm'],
      },
    );
    assert.match(lines[0]!, /^2 snapshots \(2\.0 MB stored\)/);
    assert.match(lines[1]!, /^1 stored oplog slice \(3\.5 MB\) will be deleted/);
    assert.match(lines[2]!, /^2 head databases \(th_j1_2_shop, th_j1_2_crm\) will be dropped/);
    assert.match(lines[3]!, /cannot be undone/);
  });

  it('phase bar, lag and sizes as shown', () => {
    assert.deepEqual(
      phaseBar({ state: 'initial-sync', phase: 'transferring', progress: { percent: 42.5 } }),
      {
        label: 'transferring, 42.5%',
        percent: 42.5,
      },
    );
    assert.equal(
      phaseBar({ state: 'initial-sync', phase: 'starting', progress: { percent: null } }).percent,
      null,
    );
    assert.equal(phaseBar({ state: 'active', phase: 'complete', progress: { percent: null } }).percent, 100);
    assert.equal(describeLag({ seconds: 1, entries: 0 }), '1 second, 0 oplog entries to apply');
    assert.equal(describeLag({ seconds: null, entries: null }), 'unknown');
    assert.equal(formatBytes('9007199254740993'), '9.0 PB');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(null), 'unknown');
  });

  it('parses server-sent events as they arrive in pieces', () => {
    const first = parseEvents(': hello\n\nevent: view\ndata: {"a":\ndata: 1}\n\nevent: pi');
    assert.deepEqual(first.events, [{ type: 'view', data: '{"a":\n1}' }]);
    const second = parseEvents(first.rest + 'ng\r\ndata: {}\r\n\r\n');
    assert.deepEqual(second.events, [{ type: 'ping', data: '{}' }]);
    assert.equal(second.rest, '');
  });

  it('backs off from about 1 s to at most 30 s', () => {
    assert.equal(backoffMs(0, 0), 500);
    assert.equal(backoffMs(0, 0.999999), 1000);
    assert.ok(backoffMs(3, 0.5) > backoffMs(1, 0.5));
    assert.equal(backoffMs(40, 0.999999), 30_000);
  });
});
