/**
 * Every service boots as a child process against the real servers, with a topic prefix, meta database and bucket of
 * its own: it logs the ready line, serves /healthz, reports /readyz 200 with its dependencies checked, serves
 * /metrics (every Tidemark metric declared, process metrics, its group's lag on every partition it consumes), and on
 * SIGTERM closes its connections and exits with code 0 within 10 s; job-state also serves the Backup page's files.
 * In two forms:
 * - `source`: as in development, `node --import tsx apps/<app>/src/main.ts` in the workspace;
 * - `bundle`: as the image runs it, `node --enable-source-maps dist/apps/<app>/main.js` from a folder made by
 *   `tools/build/runtime-folder.mjs` (the Dockerfile's steps: production dependencies only, the esbuild bundles,
 *   the schemas; no TypeScript, no tsx, no workspace sources), outside the workspace.
 *
 * `TIDEMARK_BOOT_SERVICES=agent,job-state` limits the services (each app's `int-test` target sets it),
 * `TIDEMARK_BOOT_FORMS=source` the forms (default both).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { createKafka, deleteTopics, resolveTopics, topicList } from '@tidemark/bus';
import { resolveEndpoints, tidemarkHome } from '@tidemark/config';
import { createS3Client, pingS3 } from '@tidemark/s3';
import { testCredentialEnv } from '@tidemark/testing';
import { METRIC_NAMES } from '../src/metrics/service-metrics';
import { SERVICE_NAMES, type ServiceName } from '../src/service-name';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 10_000;

/** What each service must at least report on /readyz and close on SIGTERM (stages may add more). */
const EXPECTED: Record<ServiceName, { checks: string[]; closes: string[] }> = {
  agent: { checks: ['kafka', 'source'], closes: ['kafka-admin', 'source-mongo'] },
  'slice-ingest': { checks: ['kafka', 'backup'], closes: ['kafka-admin', 'backup-mongo'] },
  'head-builder': { checks: ['kafka', 'backup'], closes: ['kafka-admin', 'backup-mongo'] },
  'oplog-applier': { checks: ['kafka', 'backup'], closes: ['kafka-admin', 'backup-mongo'] },
  snapshotter: { checks: ['kafka', 'backup', 's3'], closes: ['kafka-admin', 'backup-mongo', 's3'] },
  'job-state': {
    checks: ['kafka', 'backup'],
    closes: ['kafka-admin', 'backup-mongo', 'dead-letter-producer'],
  },
};

const only = (process.env['TIDEMARK_BOOT_SERVICES'] ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
for (const name of only) {
  if (!(SERVICE_NAMES as readonly string[]).includes(name))
    throw new Error(`TIDEMARK_BOOT_SERVICES: unknown service ${name}`);
}
const services = SERVICE_NAMES.filter((n) => only.length === 0 || only.includes(n));

/** How a service is started: the Node arguments and the folder they run in. */
interface Form {
  readonly name: 'source' | 'bundle';
  args(service: ServiceName): string[];
  cwd(): string;
}
let bundleFolder: string | undefined;
const FORMS: readonly Form[] = [
  { name: 'source', args: (s) => ['--import', 'tsx', `apps/${s}/src/main.ts`], cwd: () => ROOT },
  {
    name: 'bundle',
    args: (s) => ['--enable-source-maps', `dist/apps/${s}/main.js`],
    cwd: () => {
      if (bundleFolder === undefined) throw new Error('the runtime folder was not built');
      return bundleFolder;
    },
  },
];
const formsWanted = (process.env['TIDEMARK_BOOT_FORMS'] ?? 'source,bundle').split(',').map((f) => f.trim());
for (const f of formsWanted) {
  if (!FORMS.some((form) => form.name === f)) throw new Error(`TIDEMARK_BOOT_FORMS: unknown form ${f}`);
}
const forms = FORMS.filter((f) => formsWanted.includes(f.name));
const SOURCE = FORMS[0]!;

const suffix = randomBytes(4).toString('hex');
const prefix = `it-boot-${suffix}`;
const bootTopics = resolveTopics({ prefix, env: {} });
const metaDb = `tidemark_meta_boot_${suffix}`;
const bucket = `tidemark-boot-${suffix}`;
const endpoints = resolveEndpoints();

interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(service: ServiceName, extraEnv: NodeJS.ProcessEnv = {}, form: Form = SOURCE): Child {
  const proc = spawn(process.execPath, form.args(service), {
    cwd: form.cwd(),
    env: {
      ...process.env,
      // The servers' addresses: a bundle outside the workspace finds them through the same home.
      TIDEMARK_HOME: tidemarkHome(),
      ...testCredentialEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      TIDEMARK_TOPIC_PREFIX: prefix,
      TIDEMARK_META_DB: metaDb,
      S3_BUCKET: bucket,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ unparsed: line });
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => void stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, lines, stderr, exited };
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function diagnostics(child: Child): string {
  return [...child.lines.slice(-15).map((l) => JSON.stringify(l)), ...child.stderr.slice(-15)].join('\n');
}

describe('service shells boot, report ready and exit cleanly on SIGTERM', () => {
  after(async () => {
    const kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-boot-${suffix}` });
    const admin = kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    await admin.disconnect();
    await deleteTopics(kafka, mine);
    const mongo = await MongoClient.connect(endpoints.backup.uri);
    await mongo.db(metaDb).dropDatabase();
    await mongo.close();
    const s3 = createS3Client(endpoints.s3);
    const exists = await pingS3(s3, bucket).then(
      () => true,
      () => false,
    );
    if (exists) await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  for (const form of forms) {
    describe(`${form.name} form`, () => {
      if (form.name === 'bundle') {
        before(async () => {
          bundleFolder = await mkdtemp(path.join(tmpdir(), 'tidemark-runtime-'));
          const started = Date.now();
          await promisify(execFile)(
            process.execPath,
            [path.join(ROOT, 'tools', 'build', 'runtime-folder.mjs'), bundleFolder],
            { cwd: ROOT, timeout: 300_000 },
          );
          console.log(
            `runtime folder (npm ci --omit=dev, bundles, schemas) made in ${Date.now() - started} ms`,
          );
        });
        after(async () => {
          if (bundleFolder !== undefined) await rm(bundleFolder, { recursive: true, force: true });
        });
      }
      for (const service of services) bootsAndStops(service, form);
      if (form.name === 'bundle') {
        it('the topics bundle (the topics Job) creates every topic Tidemark uses, then finds them', async () => {
          const jobPrefix = `${prefix}.topics-job`;
          const declared = topicList(resolveTopics({ prefix: jobPrefix, env: {} })).map((t) => t.name);
          const ensure = () =>
            promisify(execFile)(
              process.execPath,
              [
                '--enable-source-maps',
                'dist/tools/topics/main.js',
                'ensure',
                '--prefix',
                jobPrefix,
                '--json',
              ],
              { cwd: form.cwd(), env: { ...process.env, TIDEMARK_HOME: tidemarkHome() }, timeout: 120_000 },
            );
          const first = JSON.parse((await ensure()).stdout) as { created: string[]; existing: string[] };
          assert.deepEqual([...first.created].sort(), [...declared].sort());
          const again = JSON.parse((await ensure()).stdout) as { created: string[]; existing: string[] };
          assert.deepEqual(again.created, []);
          assert.deepEqual([...again.existing].sort(), [...declared].sort());
        });
      }
    });
  }

  function bootsAndStops(service: ServiceName, form: Form): void {
    it(`${service}: ready line, /healthz, /readyz 200, /metrics, SIGTERM -> exit 0`, async () => {
      const child = start(service, {}, form);
      try {
        const ready = await until(`${service} ready line`, READY_TIMEOUT_MS, () => {
          const line = child.lines.find((l) => l['event'] === 'ready');
          if (line === undefined && child.proc.exitCode !== null) {
            throw new Error(
              `${service} exited with ${child.proc.exitCode} before ready:\n${diagnostics(child)}`,
            );
          }
          return line;
        });
        assert.equal(ready['service'], service);
        const port = ready['port'];
        assert.ok(typeof port === 'number' && port > 0);
        const base = `http://127.0.0.1:${port}`;

        assert.equal((await fetch(`${base}/healthz`)).status, 200);
        const body = await until(`${service} /readyz 200`, 20_000, async () => {
          const res = await fetch(`${base}/readyz`);
          return res.status === 200
            ? ((await res.json()) as { status: string; checks: Record<string, string> })
            : undefined;
        });
        assert.equal(body.status, 'ready');
        // At least the service's dependencies; stages may add checks of their own (e.g. `pipeline`).
        for (const check of EXPECTED[service].checks)
          assert.ok(check in body.checks, `${service} checks ${check}`);
        assert.ok(Object.values(body.checks).every((v) => v === 'ok'));

        // GET /metrics: every Tidemark metric declared, the process metrics, and the group's lag on each
        // partition of every topic the service consumes.
        const metrics = await fetch(`${base}/metrics`);
        assert.equal(metrics.status, 200);
        const text = await metrics.text();
        for (const name of Object.values(METRIC_NAMES)) {
          assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${service} declares ${name}`);
        }
        assert.match(
          text,
          new RegExp(`^tidemark_process_cpu_user_seconds_total\\{service="${service}"\\} `, 'm'),
        );
        for (const topic of topicList(bootTopics).filter((t) => t.consumers.includes(service))) {
          for (let p = 0; p < topic.partitions; p++) {
            const sample = `tidemark_consumer_lag{topic="${topic.name}",partition="${p}",service="${service}"}`;
            assert.ok(text.includes(`${sample} `), `${service}: ${sample}\n${text}`);
          }
        }

        if (service === 'job-state') {
          // The Backup page's files ship with the service (in the bundle form: copied beside the bundle).
          const page = await fetch(`${base}/`);
          assert.equal(page.status, 200);
          assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
          assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
          assert.match(await page.text(), /<script type="module" src="\/ui\/app.mjs">/);
          for (const file of ['app.mjs', 'page-logic.mjs', 'app.css']) {
            const res = await fetch(`${base}/ui/${file}`);
            assert.equal(res.status, 200, `${form.name}: /ui/${file}`);
            assert.ok((await res.text()).length > 100, `${form.name}: /ui/${file} has content`);
          }
          assert.equal((await fetch(`${base}/ui/page-logic.d.mts`)).status, 404);
        }

        const signalled = Date.now();
        child.proc.kill('SIGTERM');
        const timeout = new Promise<'timeout'>((r) =>
          setTimeout(() => r('timeout'), EXIT_TIMEOUT_MS).unref(),
        );
        const exit = await Promise.race([child.exited, timeout]);
        assert.notEqual(
          exit,
          'timeout',
          `${service} did not exit within ${EXIT_TIMEOUT_MS} ms:\n${diagnostics(child)}`,
        );
        assert.deepEqual(exit, { code: 0, signal: null }, diagnostics(child));
        assert.ok(Date.now() - signalled < EXIT_TIMEOUT_MS);

        const closed = child.lines
          .filter((l) => l['event'] === 'connection-closed')
          .map((l) => l['connection']);
        for (const name of EXPECTED[service].closes) {
          assert.ok(closed.includes(name), `${service} closed ${name} on SIGTERM:\n${diagnostics(child)}`);
        }
        assert.ok(
          !child.lines.some((l) => l['level'] === 'error'),
          `no error was logged:\n${diagnostics(child)}`,
        );
      } finally {
        if (child.proc.exitCode === null && child.proc.signalCode === null) {
          child.proc.kill('SIGKILL');
          await child.exited;
        }
      }
    });
  }

  if (services.includes('agent')) {
    it('agent: a dependency it cannot use fails the start-up with exit code 1 and a startup-failed line', async () => {
      const child = start('agent', { SOURCE_MONGODB_URI: 'not-a-mongodb-uri' });
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), READY_TIMEOUT_MS).unref());
      const exit = await Promise.race([child.exited, timeout]);
      if (exit === 'timeout') child.proc.kill('SIGKILL');
      assert.deepEqual(exit, { code: 1, signal: null }, diagnostics(child));
      const failed = child.lines.find((l) => l['event'] === 'startup-failed');
      assert.ok(failed, diagnostics(child));
      assert.match(String(failed['error']), /mongodb/i);
      assert.ok(!child.lines.some((l) => l['event'] === 'ready'));
    });
  }

  if (services.includes('job-state')) {
    it('job-state: without the admin key it refuses to start, naming both variables and quoting no secret', async () => {
      const child = start('job-state', { TIDEMARK_ADMIN_KEY: '', TIDEMARK_ADMIN_KEY_FILE: '' });
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), READY_TIMEOUT_MS).unref());
      const exit = await Promise.race([child.exited, timeout]);
      if (exit === 'timeout') child.proc.kill('SIGKILL');
      assert.deepEqual(exit, { code: 1, signal: null }, diagnostics(child));
      const failed = child.lines.find((l) => l['event'] === 'startup-failed');
      assert.ok(failed, diagnostics(child));
      assert.match(
        String(failed['error']),
        /job-state needs the bootstrap admin key: set TIDEMARK_ADMIN_KEY or TIDEMARK_ADMIN_KEY_FILE/,
      );
      const output = JSON.stringify(child.lines) + child.stderr.join('\n');
      assert.ok(!output.includes(testCredentialEnv()['TIDEMARK_SERVICE_TOKEN']!), 'no secret in the output');
      assert.ok(!child.lines.some((l) => l['event'] === 'ready'));
    });
  }

  if (services.includes('snapshotter')) {
    it('snapshotter: /readyz turns 503 naming s3 when its bucket disappears, and it still exits 0', async () => {
      const ownBucket = `${bucket}-gone`;
      const child = start('snapshotter', { S3_BUCKET: ownBucket });
      try {
        const ready = await until('snapshotter ready line', READY_TIMEOUT_MS, () =>
          child.lines.find((l) => l['event'] === 'ready'),
        );
        const base = `http://127.0.0.1:${String(ready['port'])}`;
        await until('/readyz 200', 20_000, async () =>
          (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
        );

        const s3 = createS3Client(endpoints.s3);
        await s3.send(new DeleteBucketCommand({ Bucket: ownBucket }));
        s3.destroy();
        const body = await until('/readyz 503', 20_000, async () => {
          const res = await fetch(`${base}/readyz`);
          return res.status === 503
            ? ((await res.json()) as { status: string; reason: string; checks: Record<string, string> })
            : undefined;
        });
        assert.equal(body.status, 'not-ready');
        assert.match(body.reason, /^s3: bucket tidemark-boot-[0-9a-f]+-gone: /);
        assert.equal(body.checks['kafka'], 'ok');
        assert.equal(body.checks['backup'], 'ok');
        assert.equal(
          (await fetch(`${base}/healthz`)).status,
          200,
          'liveness does not depend on dependencies',
        );

        child.proc.kill('SIGTERM');
        assert.deepEqual(await child.exited, { code: 0, signal: null }, diagnostics(child));
      } finally {
        if (child.proc.exitCode === null && child.proc.signalCode === null) {
          child.proc.kill('SIGKILL');
          await child.exited;
        }
      }
    });
  }
});
