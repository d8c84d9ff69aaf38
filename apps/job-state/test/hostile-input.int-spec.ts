/**
 * Hostile input against job-state (booted in-process with real Kafka and the backup-side MongoDB): huge bodies,
 * deep JSON, malformed JSON, odd Unicode, NUL, `$`-prefixed and injection-looking namespace and project names, bad
 * URIs, wrong types, odd path parameters and queries. Each must get a 4xx (the status named where the API promises
 * one) with a JSON reason, never a 5xx, and must change nothing: the jobs, projects, keys and restores the admin
 * key reads are the same before and after every case.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKafka } from '@tidemark/bus';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest, authorization } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { cleanUp, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, env } = specWorld('hostile', 'ho');
const MiB = 1024 * 1024;

interface Case {
  readonly what: string;
  readonly method: string;
  /** Relative to the base URL. */
  readonly path: string;
  /** A value sent as JSON, or raw text as it is. */
  readonly body?: unknown;
  readonly raw?: string;
  readonly contentType?: string;
  /** The status the API promises; any 4xx when absent. */
  readonly status?: number;
  /** What the reason must say. */
  readonly reason?: RegExp;
}

describe('hostile input: every case answered 4xx with a reason, and nothing stored changes', () => {
  let service: RunningService;
  const project = `h-${suffix}`;
  let jobId = '';
  const url = (p: string) => `${service.url}${p}`;

  /** Everything the admin key reads that a hostile request might change. */
  const stored = async (): Promise<string> => {
    const get = async (p: string) => {
      const res = await apiRequest('GET', url(p));
      assert.equal(res.status, 200, `GET ${p}`);
      return res.body;
    };
    return JSON.stringify([
      await get('/api/v1/jobs?limit=1000'),
      await get('/api/v1/projects'),
      await get('/api/v1/keys'),
      await get('/api/v1/restores'),
    ]);
  };

  before(async () => {
    service = await startJobState(env);
    assert.equal(
      (await apiRequest('POST', url('/api/v1/projects'), { body: { name: project } })).status,
      201,
    );
    const job = await apiRequest<{ id: string }>('POST', url('/api/v1/jobs'), {
      body: { project, source: { uri: endpoints.source.uri }, include: ['app'] },
    });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    jobId = job.body.id;
  });

  after(async () => {
    await service?.app.close();
    await cleanUp({
      kafka: createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-hostile-${suffix}` }),
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`],
    });
  });

  const job = (extra: Record<string, unknown>) => ({
    project,
    source: { uri: endpoints.source.uri },
    ...extra,
  });
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

  const cases = (): Case[] => [
    // Sizes.
    {
      what: 'a 2 MiB body',
      method: 'POST',
      path: '/api/v1/jobs',
      raw: JSON.stringify(job({ include: ['a'.repeat(2 * MiB)] })),
      status: 413,
      reason: /larger than 1048576 bytes/,
    },
    {
      what: 'a body one byte over 1 MiB',
      method: 'POST',
      path: '/api/v1/jobs',
      raw: JSON.stringify(job({ include: [] })).replace('"include":[]', `"include":["${'a'.repeat(MiB)}"]`),
      status: 413,
    },
    {
      what: 'a 900 kB namespace',
      method: 'POST',
      path: '/api/v1/jobs',
      body: job({ include: ['a'.repeat(900_000)] }),
      status: 400,
      reason: /include\[0\] must be at most 255 characters/,
    },
    {
      what: '1001 namespaces',
      method: 'POST',
      path: '/api/v1/jobs',
      body: job({ exclude: Array.from({ length: 1001 }, (_, i) => `d${i}`) }),
      status: 400,
      reason: /at most 1000 items/,
    },
    {
      what: 'a 5000-character source URI',
      method: 'POST',
      path: '/api/v1/jobs',
      body: job({ source: { uri: `mongodb://h/${'x'.repeat(5000)}` } }),
      status: 400,
    },
    // Deep and malformed JSON.
    {
      what: 'JSON nested 100000 levels',
      method: 'POST',
      path: '/api/v1/jobs',
      raw: `{"project":"${project}","source":{"uri":"mongodb://h/"},"include":${deep(100_000)}}`,
      status: 400,
      reason: /nests deeper than 32 levels/,
    },
    {
      what: 'JSON nested 33 levels in a progress report',
      method: 'POST',
      path: '/api/v1/restores/r-x/progress',
      raw: deep(33),
      status: 400,
      reason: /nests deeper/,
    },
    { what: 'truncated JSON', method: 'POST', path: '/api/v1/jobs', raw: '{"project": "x', status: 400 },
    { what: 'trailing garbage', method: 'POST', path: '/api/v1/jobs', raw: '{}}', status: 400 },
    { what: 'a JSON string as the body', method: 'POST', path: '/api/v1/jobs', raw: '"x"', status: 400 },
    {
      what: 'JSON sent as text/plain',
      method: 'POST',
      path: '/api/v1/projects',
      raw: '{"name":"plain-text"}',
      contentType: 'text/plain',
      status: 415,
    },
    {
      what: 'a form body',
      method: 'POST',
      path: '/api/v1/projects',
      raw: 'name=form',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      reason: /must be JSON/,
    },
    {
      what: 'a 200 kB form body',
      method: 'POST',
      path: '/api/v1/projects',
      raw: `name=${'a'.repeat(200_000)}`,
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
    },
    {
      what: 'a body fetch labels text/plain (no content type given)',
      method: 'POST',
      path: '/api/v1/projects',
      raw: '{"name":"untyped"}',
      contentType: '',
      status: 415,
    },
    {
      what: 'a charset the API does not read',
      method: 'POST',
      path: '/api/v1/projects',
      raw: '{"name":"latin9"}',
      contentType: 'application/json; charset=latin9',
      status: 415,
    },
    // Namespace names.
    ...[
      '',
      'a\u0000b',
      '$where',
      'app.$cmd',
      'admin',
      'local.oplog.rs',
      'config.x',
      'app.system.views',
      '{"$gt":""}',
      "'; DROP TABLE jobs; --",
      '../../etc/passwd',
      '\u202e$evil',
      'db\\x',
      '💾 backup',
      'x'.repeat(256),
    ].map((name): Case => ({
      what: `include ${JSON.stringify(name.slice(0, 40))}`,
      method: 'POST',
      path: '/api/v1/jobs',
      body: job({ include: [name] }),
      status: 400,
    })),
    {
      what: 'an operator object as a namespace',
      method: 'POST',
      path: '/api/v1/jobs',
      body: job({ include: [{ $gt: '' }] }),
      status: 400,
    },
    {
      what: 'an operator object as the project',
      method: 'POST',
      path: '/api/v1/jobs',
      body: { project: { $ne: null }, source: { uri: 'mongodb://h/' } },
      status: 400,
    },
    ...['shöp', '$where', 'a/b', '..', 'a\u0000', '\u202eshop', 'x'.repeat(65)].map((name): Case => ({
      what: `project name ${JSON.stringify(name.slice(0, 20))}`,
      method: 'POST',
      path: '/api/v1/projects',
      body: { name },
      status: 400,
    })),
    {
      what: 'a job in a project with an odd name',
      method: 'POST',
      path: '/api/v1/jobs',
      body: { project: `${project}\u0000`, source: { uri: 'mongodb://h/' } },
      status: 404,
    },
    {
      what: 'a grant on "$where"',
      method: 'POST',
      path: '/api/v1/keys',
      body: { grants: { $where: 'owner' } },
      status: 400,
    },
    {
      what: 'a role above owner',
      method: 'POST',
      path: '/api/v1/keys',
      body: { grants: { [project]: 'root' } },
      status: 400,
    },
    // URIs.
    ...[
      'http://h/',
      'mongodb://user:pw@h/',
      'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:x',
      'javascript:alert(1)',
      'file:///etc/passwd',
      ' mongodb://h/',
    ].map((uri): Case => ({
      what: `source URI ${JSON.stringify(uri)}`,
      method: 'POST',
      path: '/api/v1/jobs',
      body: job({ source: { uri } }),
      status: 400,
    })),
    {
      what: 'a restore into http://',
      method: 'POST',
      path: '/api/v1/restores',
      body: { jobId, point: '1700000000:1', target: 'http://evil.example/' },
      status: 400,
    },
    // Wrong types and values.
    ...[
      { readLimit: '5' },
      { readLimit: -1 },
      { readLimit: { $set: 1 } },
      { include: 'app' },
      { schedule: [] },
      { schedule: { intervalMinutes: 1e308 } },
      { schedule: { intervalminutes: 60 } },
      { snapshotStore: { kind: 'tape' } },
      { snapshotStore: { kind: 'filesystem', path: 'relative/dir' } },
    ].map((extra): Case => ({
      what: `job ${JSON.stringify(extra)}`,
      method: 'POST',
      path: '/api/v1/jobs',
      body: job(extra),
      status: 400,
    })),
    {
      what: 'a read limit of 1e400 (Infinity once parsed)',
      method: 'POST',
      path: '/api/v1/jobs',
      raw: `{"project":"${project}","source":{"uri":"mongodb://h/"},"readLimit":1e400}`,
      status: 400,
    },
    {
      what: 'settings with an operator',
      method: 'PATCH',
      path: `/api/v1/jobs/${jobId}/settings`,
      body: { readLimit: { $set: 1 } },
      status: 400,
    },
    {
      what: 'settings with a misspelt field',
      method: 'PATCH',
      path: `/api/v1/jobs/${jobId}/settings`,
      body: { readlimit: 1 },
      status: 400,
    },
    {
      what: 'a resync reason of 1001 characters',
      method: 'POST',
      path: `/api/v1/jobs/${jobId}/resync`,
      body: { reason: 'r'.repeat(1001) },
    },
    // Path parameters and queries.
    { what: 'a job id with NUL', method: 'GET', path: '/api/v1/jobs/%00', status: 404 },
    { what: 'a job id "$where"', method: 'GET', path: '/api/v1/jobs/$where', status: 404 },
    { what: 'a status of a job id with NUL', method: 'GET', path: '/api/v1/jobs/a%00/status', status: 404 },
    {
      what: 'settings of a job id with NUL',
      method: 'PATCH',
      path: '/api/v1/jobs/%00/settings',
      body: { readLimit: 1 },
      status: 404,
    },
    { what: 'a restore id with NUL', method: 'GET', path: '/api/v1/restores/r-%00', status: 404 },
    { what: 'a restore of a job id with NUL', method: 'GET', path: '/api/v1/restores?job=%00', status: 404 },
    { what: 'a snapshot id with NUL', method: 'GET', path: '/api/v1/snapshots/%00', status: 404 },
    { what: 'a project name with NUL', method: 'GET', path: '/api/v1/projects/a%00', status: 404 },
    { what: 'a key id with NUL', method: 'DELETE', path: '/api/v1/keys/%00', status: 404 },
    { what: 'a traversing job id', method: 'GET', path: '/api/v1/jobs/..%2F..%2Fetc', status: 404 },
    { what: 'a badly encoded id', method: 'GET', path: '/api/v1/jobs/%E0%A4%A', status: 400 },
    { what: 'a 10000-character id', method: 'GET', path: `/api/v1/jobs/${'j'.repeat(10_000)}`, status: 404 },
    { what: 'an unknown action', method: 'POST', path: `/api/v1/jobs/${jobId}/explode`, status: 404 },
    { what: 'a negative limit', method: 'GET', path: '/api/v1/jobs?limit=-1', status: 400 },
    { what: 'a huge limit', method: 'GET', path: '/api/v1/jobs?limit=1e9', status: 400 },
    { what: 'a limit given twice', method: 'GET', path: '/api/v1/jobs?limit=1&limit=2', status: 400 },
    {
      what: 'a restores limit given twice',
      method: 'GET',
      path: '/api/v1/restores?limit=1&limit=2',
      status: 400,
    },
    {
      what: 'a restore query naming no job',
      method: 'GET',
      path: '/api/v1/restores?job=$where',
      status: 404,
    },
  ];

  it('answers each case 4xx with a JSON reason and changes nothing stored', async () => {
    const all = cases();
    const start = await stored();
    const seen: string[] = [];
    for (const c of all) {
      const headers: Record<string, string> = { ...authorization() };
      let body: string | undefined;
      if (c.raw !== undefined) body = c.raw;
      else if (c.body !== undefined) body = JSON.stringify(c.body);
      if (body !== undefined && c.contentType !== '')
        headers['content-type'] = c.contentType ?? 'application/json';
      const res = await fetch(url(c.path), { method: c.method, headers, body });
      const text = await res.text();
      const what = `${c.what}: ${c.method} ${c.path.slice(0, 60)} -> ${res.status} ${text.slice(0, 300)}`;
      assert.ok(res.status >= 400 && res.status < 500, what);
      if (c.status !== undefined) assert.equal(res.status, c.status, what);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
      const answer = JSON.parse(text) as { statusCode?: number; message?: unknown };
      assert.equal(answer.statusCode, res.status, what);
      assert.ok(typeof answer.message === 'string' && answer.message.length > 0, `${what}: a reason`);
      if (c.reason !== undefined) assert.match(answer.message as string, c.reason, what);
      assert.equal(await stored(), start, `${what}: changed what is stored`);
      seen.push(`${res.status} ${c.what}`);
    }
    console.log(`hostile input: ${all.length} cases, all 4xx, nothing changed\n${seen.join('\n')}`);
  });
});
