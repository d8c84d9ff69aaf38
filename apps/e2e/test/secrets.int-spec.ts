/**
 * End to end: no secret leaks. All six services run with real secrets of every kind, a user drives a job through its
 * life with them (an API key, snapshots encrypted at rest, a source credential the agent holds, a refused URI that
 * carries a password, a wrong key), and afterwards everything the run produced is searched for each secret:
 *
 * - every HTTP answer (status line, headers, body) the run received, and the CLI's output and errors;
 * - every service's log;
 * - every record of every Kafka topic of the run (keys, values, headers), dead-letter topics included;
 * - every document job-state and the stages stored on the backup side for the run (meta, oplog store, snapshot
 *   metadata);
 * - every file of the filesystem snapshot store;
 * - the services' process arguments (/proc/<pid>/cmdline), read while they run.
 *
 * A secret is searched as its text and as its bytes in hex and base64 (the forms a careless log would use), and the
 * API key's secret part also on its own. The search is shown able to fail: each haystack must hold a marker the
 * run put there on purpose (the job id), and a planted secret is found.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseApiKey } from '@tidemark/access';
import { resolveEndpoints } from '@tidemark/config';
import { loadedTestSource, seedSource, ServiceStack, type TestSource } from '@tidemark/testing';
import { suffix, waitUntil } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');

interface Haystack {
  readonly where: string;
  readonly text: string;
}

/** The forms a secret is searched in. */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
}

/** Every (secret name, haystack) where one of the secret's forms occurs. */
function leaks(secrets: Record<string, string>, haystacks: readonly Haystack[]): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets))
    for (const form of forms(secret))
      for (const h of haystacks) if (h.text.includes(form)) found.push(`${name} in ${h.where}`);
  return found;
}

describe('secrets never appear in answers, logs, events, stored documents, files or process arguments', () => {
  let source: TestSource;
  let stack: ServiceStack;
  let backup: MongoClient;
  let dir: string;
  const s = suffix();
  const db = `e2esec${s}_app`;
  const prefix = `e2e-secrets-${s}`;
  const snapshotDb = `e2e_secsnap_${s}`;
  const sourcePassword = `src-pw-${randomBytes(16).toString('hex')}`;
  const uriPassword = `uri-pw-${randomBytes(16).toString('hex')}`;
  const encryptionKey = randomBytes(32).toString('base64');
  const env: Record<string, string> = {
    TIDEMARK_TOPIC_PREFIX: prefix,
    TIDEMARK_META_DB: `e2e_meta_sec_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_sec_${s}`,
    TIDEMARK_SNAPSHOT_DB: snapshotDb,
    TIDEMARK_SNAPSHOT_TICK_MS: '1000',
    TIDEMARK_SLICE_TARGET_BYTES: String(256 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '500',
    TIDEMARK_EFFECTS_FLUSH_MS: '500',
  };
  const answers: Haystack[] = [];
  const argv: Haystack[] = [];
  let jobId = '';

  before(async () => {
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-e2e-secrets-'));
    source = await loadedTestSource({
      name: 'e2e-secrets',
      oplogBytes: 8 * 1024 * 1024,
      load: (client) => seedSource(client, { collections: { [`${db}.items`]: 200 } }),
    });
    // The agent holds a login for another deployment (never used here, never to be shown) and none for the test
    // source, which needs none.
    const sourceHosts = new URL(source.uri.replace(/^mongodb:/, 'http:')).host.split(',');
    env['TIDEMARK_SOURCE_CREDENTIALS'] = JSON.stringify({
      sources: [
        { id: 'test', hosts: sourceHosts },
        {
          id: 'prod',
          hosts: ['db1.example.net:27017'],
          username: 'tidemark-backup',
          password: sourcePassword,
        },
      ],
    });
    await writeFile(path.join(dir, 'snapshot.key'), encryptionKey, { mode: 0o600 });
    stack = new ServiceStack(env, `secrets-${s}`);
    await stack.startAll();
    for (const name of [
      'agent',
      'slice-ingest',
      'head-builder',
      'oplog-applier',
      'snapshotter',
      'job-state',
    ] as const) {
      const pid = stack.pid(name);
      if (pid !== undefined)
        argv.push({
          where: `${name}'s arguments`,
          text: (await readFile(`/proc/${pid}/cmdline`)).toString('utf8'),
        });
    }
  });

  after(async () => {
    await stack?.stopAll();
    await source?.client.db(db).dropDatabase();
    await source?.stop();
    const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) {
      const mine =
        [env['TIDEMARK_META_DB'], env['TIDEMARK_OPLOG_STORE_DB'], snapshotDb].includes(d.name) ||
        (jobId !== '' && d.name.startsWith(`th_${jobId}_`));
      if (mine) await backup.db(d.name).dropDatabase();
    }
    await backup?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a job driven with every kind of secret leaves none of them anywhere', async () => {
    /** Every answer is kept, whole, for the search. */
    const call = async <T>(method: string, p: string, body?: unknown, key?: string | null) => {
      const res = await fetch(`${stack.apiUrl}${p}`, {
        method,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key ?? process.env['TIDEMARK_ADMIN_KEY']}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
      answers.push({ where: `the answer to ${method} ${p}`, text: `${res.status}\n${headers}\n${text}` });
      return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    };
    const cli = (key: string, ...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, ...args],
          {
            cwd: ROOT,
            env: { ...process.env, ...env, TIDEMARK_API_URL: stack.apiUrl, TIDEMARK_API_KEY: key },
            timeout: 180_000,
          },
          (err, stdout, stderr) => {
            answers.push({ where: `tidemark ${args.join(' ')}`, text: `${stdout}\n${stderr}` });
            resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
          },
        );
      });

    const project = `sec-${s}`;
    assert.equal((await call('POST', '/api/v1/projects', { name: project })).status, 201);
    const created = await call<{ id: string; key: string }>('POST', '/api/v1/keys', {
      grants: { [project]: 'owner' },
    });
    assert.equal(created.status, 201);
    const apiKey = created.body.key;
    assert.match(apiKey, /^tmk_[0-9a-f]+_/);
    // The secret is base64url, so it may hold `_` itself: the key's own parser splits it (a split at the last `_`
    // once gave a secret of two characters, which random block bytes then held).
    const keySecret = parseApiKey(apiKey)?.secret ?? assert.fail(`not an API key: ${apiKey}`);
    assert.equal(keySecret.length, 43);
    // The key is shown once, at creation: that answer is the one place it may be, so it is not searched.
    answers.pop();

    // A URI with a password is refused, and the refusal does not repeat it.
    const sourceWithPassword = source.uri.replace('mongodb://', `mongodb://someone:${uriPassword}@`);
    const refused = await call(
      'POST',
      '/api/v1/jobs',
      { project, source: { uri: sourceWithPassword } },
      apiKey,
    );
    assert.equal(refused.status, 400);
    // A wrong secret for a real key id, and no key at all.
    assert.equal((await call('GET', '/api/v1/jobs', undefined, `${apiKey.slice(0, -4)}abcd`)).status, 401);
    assert.equal((await call('GET', '/api/v1/jobs', undefined, null)).status, 401);

    const job = await call<{ id: string }>(
      'POST',
      '/api/v1/jobs',
      {
        project,
        source: { uri: source.uri },
        include: [db],
        snapshotStore: {
          kind: 'filesystem',
          path: path.join(dir, 'fs'),
          encryptionKeyFile: path.join(dir, 'snapshot.key'),
        },
      },
      apiKey,
    );
    assert.equal(job.status, 201, JSON.stringify(job.body));
    jobId = job.body.id;
    assert.equal((await call('POST', `/api/v1/jobs/${jobId}/start`, undefined, apiKey)).status, 200);
    await waitUntil('the job active', 240_000, async () => {
      const st = await call<{ state: string; blocked: unknown }>(
        'GET',
        `/api/v1/jobs/${jobId}/status`,
        undefined,
        apiKey,
      );
      if (st.body.blocked) throw new Error(`blocked: ${JSON.stringify(st.body.blocked)}`);
      return st.body.state === 'active';
    });
    const taken = await cli(apiKey, 'snapshot', 'take', jobId, '--json', '--timeout', '120');
    assert.equal(taken.code, 0, taken.stderr);
    const snapshotId = (JSON.parse(taken.stdout) as { id: string }).id;
    const verified = await cli(apiKey, 'snapshot', 'verify', snapshotId, '--json');
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal((await cli(apiKey, 'job', 'status', jobId, '--json')).code, 0);
    const dump = await cli(
      apiKey,
      'restore',
      '--snapshot',
      snapshotId,
      '--dump',
      path.join(dir, 'dump'),
      '--json',
    );
    assert.equal(dump.code, 0, dump.stderr);
    // A failing CLI call (a wrong key) prints an error that must not hold the key either.
    assert.notEqual((await cli(`${apiKey.slice(0, -4)}abcd`, 'job', 'list', '--json')).code, 0);
    await call('POST', `/api/v1/jobs/${jobId}/stop`, undefined, apiKey);
    await call('GET', `/api/v1/jobs/${jobId}`, undefined, apiKey);
    await stack.stopAll();

    // Everything the run produced.
    const haystacks: Haystack[] = [...answers, ...argv];
    for (const f of await readdir(stack.logDir))
      haystacks.push({ where: `log ${f}`, text: await readFile(path.join(stack.logDir, f), 'utf8') });
    const kafka = new Kafka({
      clientId: `secrets-${s}`,
      brokers: resolveEndpoints().kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.disconnect();
    assert.ok(topics.length >= 5, `topics of the run: ${topics.join(', ')}`);
    const records = new Map<string, string[]>(topics.map((t) => [t, []]));
    const consumer = kafka.consumer({ groupId: `secrets-check-${s}` });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    let last = Date.now();
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        last = Date.now();
        const headers = Object.entries(message.headers ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ');
        records
          .get(topic)!
          .push(
            `${message.key?.toString('latin1') ?? ''} ${message.value?.toString('latin1') ?? ''} ${headers}`,
          );
      },
    });
    await waitUntil('the topics read to their end', 60_000, async () => Date.now() - last > 5_000);
    await consumer.disconnect();
    for (const [topic, list] of records) haystacks.push({ where: `topic ${topic}`, text: list.join('\n') });
    for (const name of [env['TIDEMARK_META_DB']!, env['TIDEMARK_OPLOG_STORE_DB']!, snapshotDb]) {
      for (const c of await backup.db(name).listCollections({}, { nameOnly: true }).toArray()) {
        if (c.name === 'slice_chunks') continue; // compressed payloads: the source's documents, not ours to search
        const docs = await backup.db(name).collection(c.name).find({}).toArray();
        haystacks.push({ where: `${name}.${c.name}`, text: JSON.stringify(docs) });
      }
    }
    for (const f of await readdir(path.join(dir, 'fs'), { recursive: true, withFileTypes: true }))
      if (f.isFile()) {
        const file = path.join(f.parentPath, f.name);
        haystacks.push({ where: `file ${file}`, text: (await readFile(file)).toString('latin1') });
      }

    // The search can fail: the job id is in the places it must be, and a planted secret is found.
    const marked = (where: RegExp) => haystacks.filter((h) => where.test(h.where) && h.text.includes(jobId));
    assert.ok(marked(/^log /).length >= 3, 'the logs do not name the job: are they the run’s?');
    assert.ok(marked(/^topic /).length >= 3, 'the topics do not name the job: were they read?');
    assert.ok(marked(/^e2e_meta_sec/).length >= 1, 'the meta database does not name the job');
    assert.deepEqual(
      leaks({ planted: keySecret }, [{ where: 'a planted log line', text: `auth ok ${keySecret}` }]),
      ['planted in a planted log line'],
    );

    const found = leaks(
      {
        'the admin key': process.env['TIDEMARK_ADMIN_KEY']!,
        'the service token': process.env['TIDEMARK_SERVICE_TOKEN']!,
        'the API key': apiKey,
        "the API key's secret": keySecret,
        'the source password': sourcePassword,
        'the password of a refused URI': uriPassword,
        'the snapshot encryption key': encryptionKey,
      },
      haystacks,
    );
    console.log(
      `searched ${haystacks.length} places (${haystacks.reduce((n, h) => n + h.text.length, 0)} characters, ` +
        `${topics.length} topics, ${[...records.values()].reduce((n, l) => n + l.length, 0)} records)`,
    );
    assert.deepEqual(found, [], `secrets leaked:\n${found.join('\n')}`);
  });
});
