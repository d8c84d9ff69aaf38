/**
 * The Backup page in a real browser: Debian's headless Chromium (`/usr/bin/chromium`, or `TIDEMARK_CHROMIUM`)
 * driven by playwright-core, against all six services as processes and a source of the test's own. Signed in with
 * an owner key of one project, the page starts a job and shows its phase bar move until the job is active; stops
 * and restarts it; shows a RESYNC_REQUIRED alert published on the alerts topic as the agent would, and clears it
 * with Resync; shows the live view disconnected while job-state is down and live again after; takes a snapshot
 * and builds the restore command line (no password in it); terminates the job through the confirmation dialog,
 * which says what goes. Every control has an accessible name (the browser's own accessibility tree), the page
 * runs under its Content-Security-Policy without a violation, the key never appears in a URL, and the browser
 * sends nothing anywhere but 127.0.0.1. Screenshots go to `tmp/screenshots/backup-page/` (git-ignored).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createKafka, producerFor, publish, resolveTopics, type AlertRaised } from '@tidemark/bus';
import { resolveEndpoints } from '@tidemark/config';
import { apiCall, loadedTestSource, ServiceStack, type TestSource } from '@tidemark/testing';
import { JobApi, suffix, waitUntil } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SHOTS = path.join(ROOT, 'tmp', 'screenshots', 'backup-page');
const CHROMIUM = process.env['TIDEMARK_CHROMIUM'] ?? '/usr/bin/chromium';
const DOCS = 3_000;
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');

/** Runs a command line in a POSIX shell, from the workspace, with `env` added. */
function sh(line: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', line],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 300_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

const shellWord = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;

describe('the Backup page in headless Chromium (all six services)', () => {
  const s = suffix();
  const project = `page-${s}`;
  const prefix = `e2e-page-${s}`;
  /** The source's database, and the restored copy's on the backup side. */
  const db = `pagedb_${s}`;
  const snapshotDb = `e2e_snap_page_${s}`;
  let source: TestSource;
  let stack: ServiceStack;
  let browser: Browser;
  let producer: Producer;
  const outside: string[] = [];
  const problems: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
    mkdirSync(SHOTS, { recursive: true });
    source = await loadedTestSource({
      name: `page-${s}`,
      oplogBytes: 8 * 1024 * 1024,
      load: (client) =>
        client
          .db(db)
          .collection('items')
          .insertMany(Array.from({ length: DOCS }, (_, k) => ({ k, pad: 'x'.repeat(200) }))),
    });
    stack = new ServiceStack(
      {
        TIDEMARK_TOPIC_PREFIX: prefix,
        TIDEMARK_META_DB: `e2e_meta_page_${s}`,
        TIDEMARK_OPLOG_STORE_DB: `e2e_os_page_${s}`,
        TIDEMARK_SNAPSHOT_DB: snapshotDb,
        TIDEMARK_OPLOG_FLUSH_MS: '300',
        TIDEMARK_UI_POLL_MS: '500',
      },
      `page-${s}`,
    );
    await stack.startAll();
    const kafka = createKafka({ brokers: resolveEndpoints().kafka.brokers, clientId: `e2e-page-${s}` });
    producer = producerFor(kafka);
    await producer.connect();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });

  after(async () => {
    await browser?.close();
    await producer?.disconnect();
    await stack?.stopAll();
    await source?.client.db(db).dropDatabase();
    const backup = await MongoClient.connect(resolveEndpoints().backup.uri);
    await backup.db(db).dropDatabase();
    await backup.close();
    await source?.stop();
  });

  it('signs in, starts, watches, stops, restarts, sees an alert come and go, snapshots and terminates', async () => {
    const api = new JobApi(stack.apiUrl);
    await api.ensureProject(project);
    const owner = await apiCall<{ key: string }>('POST', `${stack.apiUrl}/api/v1/keys`, {
      grants: { [project]: 'owner' },
    });
    const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project,
      source: { uri: source.uri },
      include: [db],
    });

    const context = await browser.newContext({ viewport: { width: 1200, height: 1400 } });
    // Nothing but job-state on 127.0.0.1: anything else is refused and recorded.
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    // Console errors count, except failed loads: the live stream's requests fail on purpose while job-state is down.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: net::ERR_/.test(m.text()))
        problems.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => {
      if (!r.url().includes('/stream')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

    const response = await page.goto(`${stack.apiUrl}/`);
    assert.equal(response?.status(), 200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(await page.getByRole('heading', { name: 'Tidemark Backup' }).count(), 1);

    await page.getByLabel('API key').fill(owner.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const live = page.locator('#live');
    await waitFor(
      page,
      'the live view',
      () => live.getAttribute('data-state'),
      (v) => v === 'live',
    );
    assert.equal(await page.getByRole('combobox', { name: 'Project' }).inputValue(), project);
    const card = page.locator(`article[data-job-id="${job.id}"]`);
    await waitFor(
      page,
      'the job inactive',
      () => card.getAttribute('data-state'),
      (v) => v === 'inactive',
    );
    assert.ok(!page.url().includes(owner.key), 'the key is never in a URL');
    assert.equal(await page.evaluate('sessionStorage.getItem("tidemark.apiKey")'), owner.key);
    assert.equal(await page.evaluate('localStorage.length'), 0);
    await shot('01-signed-in');
    await accessibleNames(page, 'signed in');

    // Start: the bar moves through the phases until the job is active.
    await card.getByRole('button', { name: 'Start', exact: true }).click();
    const bar = card.getByRole('progressbar', { name: `Phase progress of job ${job.id}` });
    const phases = new Set<string>();
    await waitUntil(
      'the job active on the page',
      300_000,
      async () => {
        // The state first: the page sets both attributes in one update, so a phase read after an `active` state is
        // that update's (`complete`) or a later one's; read the other way round, the last phase could be missed.
        const active = (await card.getAttribute('data-state')) === 'active';
        const phase = (await card.getAttribute('data-phase')) ?? '';
        if (phase !== '' && !phases.has(phase)) {
          phases.add(phase);
          await shot(`02-phase-${phases.size}-${phase}`);
        }
        return active;
      },
      200,
    );
    assert.ok(phases.has('complete'), `phases seen: ${[...phases].join(', ')}`);
    assert.ok(phases.size >= 2, `the bar moved through more than one phase: ${[...phases].join(', ')}`);
    assert.equal(await bar.getAttribute('value'), '100');
    assert.match((await card.locator('[data-field="phase"]').textContent()) ?? '', /complete, 100%/);
    await shot('03-active');

    // Stop, then restart: the buttons follow allowedActions.
    await card.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitFor(
      page,
      'stopped',
      () => card.getAttribute('data-state'),
      (v) => v === 'stopped',
    );
    assert.equal(await card.getByRole('button', { name: 'Stop', exact: true }).count(), 0);
    await shot('04-stopped');
    // By keyboard: focus the button and press Enter.
    await card.getByRole('button', { name: 'Restart', exact: true }).focus();
    await page.keyboard.press('Enter');
    await waitFor(
      page,
      'active again',
      () => card.getAttribute('data-state'),
      (v) => v === 'active',
      300_000,
    );
    await shot('05-restarted');

    // An alert as the agent raises it appears; Resync clears it.
    const syncId = (await api.call<{ syncId: string }>('GET', `/api/v1/jobs/${job.id}`)).syncId;
    const topics = resolveTopics({ prefix, env: {} });
    await publish(producer, topics.alerts, {
      alertId: `RESYNC_REQUIRED:${syncId}:page`,
      jobId: job.id,
      severity: 'CRITICAL',
      code: 'RESYNC_REQUIRED',
      message: `backup requires a resync: the source oplog no longer holds the job's position`,
      context: { syncId },
      at: new Date(),
      // A stage's raise: no lifecycle fields (job-state opens and closes the alert it stands for).
      state: null,
      subject: null,
      closedAt: null,
      closeReason: null,
    } satisfies AlertRaised);
    const alert = card.locator('li[data-code="RESYNC_REQUIRED"]');
    await waitFor(
      page,
      'the alert on the page',
      () => alert.count(),
      (n) => n === 1,
    );
    assert.match((await alert.textContent()) ?? '', /backup requires a resync/);
    assert.match((await page.locator('#announcer').textContent()) ?? '', /alert RESYNC_REQUIRED/);
    await shot('06-alert');
    await card.getByRole('button', { name: 'Resync', exact: true }).click();
    await waitFor(
      page,
      'the alert gone',
      () => alert.count(),
      (n) => n === 0,
    );
    await shot('07-alert-cleared');
    await waitFor(
      page,
      'active after the resync',
      () => card.getAttribute('data-state'),
      (v) => v === 'active',
      300_000,
    );

    // job-state goes away: the page says so, and comes back by itself.
    await stack.kill('job-state');
    await waitFor(
      page,
      'disconnected',
      () => live.getAttribute('data-state'),
      (v) => v === 'disconnected',
    );
    assert.match((await live.textContent()) ?? '', /reconnecting/);
    await shot('08-disconnected');
    await stack.start('job-state');
    await waitFor(
      page,
      'live again',
      () => live.getAttribute('data-state'),
      (v) => v === 'live',
      90_000,
    );

    // A snapshot, then the restore command line for it.
    await card.getByRole('button', { name: 'Take snapshot' }).click();
    const done = card.locator('tr[data-snapshot-id]', { hasText: 'complete' });
    await waitFor(
      page,
      'a complete snapshot',
      () => done.count(),
      (n) => n === 1,
      180_000,
    );
    const snapshotId = (await done.getAttribute('data-snapshot-id')) ?? '';
    await card
      .getByLabel('Target MongoDB URI')
      .fill('mongodb://alice:s3cret@127.0.0.1:27999/?replicaSet=rs9');
    await card.getByLabel(/Only these namespaces/).fill(`${db}.items`);
    await card.getByLabel(/Drop target collections/).check();
    const command = (await card.locator('pre.command').textContent()) ?? '';
    assert.equal(
      command,
      `npx tidemark restore --snapshot ${snapshotId} --to 'mongodb://alice@127.0.0.1:27999/?replicaSet=rs9' --include ${db}.items --drop`,
    );
    assert.match(
      (await card.locator(`#job-${job.id}-restore-note`).textContent()) ?? '',
      /password is left out/,
    );
    await shot('09-restore-form');

    // The command the form builds for a real target runs as it is (the CLI for `npx tidemark`), and the restore it
    // records shows up under the form, complete, with its documents.
    const backupUri = resolveEndpoints().backup.uri;
    await card.getByLabel('Target MongoDB URI').fill(backupUri);
    await card.getByLabel(/Drop target collections/).uncheck();
    const runnable = (await card.locator('pre.command').textContent()) ?? '';
    assert.ok(runnable.startsWith(`npx tidemark restore --snapshot ${snapshotId} --to `), runnable);
    const ran = await sh(
      runnable.replace(/^npx tidemark /, `${shellWord(process.execPath)} ${shellWord(CLI)} `),
      {
        TIDEMARK_API_URL: stack.apiUrl,
        TIDEMARK_API_KEY: owner.key,
        TIDEMARK_SNAPSHOT_DB: snapshotDb,
      },
    );
    assert.equal(ran.code, 0, `${runnable}\n${ran.stderr}`);
    const restored = card.locator('tr[data-restore-id]', { hasText: 'complete' });
    await waitFor(
      page,
      'the restore on the page',
      () => restored.count(),
      (n) => n === 1,
    );
    assert.match((await restored.textContent()) ?? '', new RegExp(`${DOCS} documents`));
    await shot('10-restored');
    await accessibleNames(page, 'with a job, its snapshot, the restore form and a restore');

    // Terminate asks first and says what goes; "keep" keeps it.
    await card.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitFor(
      page,
      'stopped before terminate',
      () => card.getAttribute('data-state'),
      (v) => v === 'stopped',
    );
    await card.getByRole('button', { name: 'Terminate…' }).click();
    const dialog = page.getByRole('dialog');
    await waitFor(
      page,
      'the dialog',
      () => dialog.isVisible(),
      (v) => v,
    );
    const what = (await dialog.textContent()) ?? '';
    assert.match(what, /1 snapshot \([\d.]+ [kMG]?B stored\) will be deleted/);
    assert.match(what, /[1-9]\d* stored oplog slices? \([\d.]+ [kMG]?B\) will be deleted/);
    assert.match(what, new RegExp(`1 head database \\(th_${job.id}_3_${db}\\) will be dropped`));
    await shot('11-terminate-dialog');
    // The safe choice has the focus, and Escape is "keep" too.
    assert.equal(await page.evaluate('document.activeElement.id'), 'terminate-cancel');
    await page.keyboard.press('Escape');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await card.getAttribute('data-state'), 'stopped', 'keeping the job leaves it stopped');
    await card.getByRole('button', { name: 'Terminate…' }).click();
    await page.getByRole('button', { name: 'Terminate and delete its backups' }).click();
    await waitFor(
      page,
      'terminated',
      () => card.getAttribute('data-state'),
      (v) => v === 'inactive',
    );
    await shot('12-terminated');

    assert.deepEqual(outside, [], 'the page asked for nothing outside 127.0.0.1');
    assert.deepEqual(problems, [], 'no console error, no CSP violation, no script error');
    await context.close();
  });
});

/** Polls `read` in the page until `ok`, failing with the last value seen. */
async function waitFor<T>(
  _page: Page,
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  let last: T | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    last = await read();
    if (ok(last)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const CONTROL_ROLES = new Set([
  'button',
  'textbox',
  'combobox',
  'listbox',
  'checkbox',
  'radio',
  'progressbar',
  'link',
  'dialog',
  'table',
]);

/** Every control of the page has an accessible name, as Chromium's own accessibility tree computes it. */
async function accessibleNames(page: Page, when: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
    nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[];
  };
  await cdp.detach();
  const controls = nodes.filter((n) => !n.ignored && CONTROL_ROLES.has(n.role?.value ?? ''));
  assert.ok(controls.length >= 5, `${when}: found ${controls.length} controls`);
  const unnamed = controls.filter((n) => (n.name?.value ?? '').trim() === '').map((n) => n.role?.value);
  assert.deepEqual(unnamed, [], `${when}: controls without an accessible name`);
}
