/**
 * Access control of job-state, against job-state booted in-process with real Kafka and the backup-side MongoDB.
 * The routes are NOT a hand list: they are read from the running app's router (every method and path Nest
 * registered), so a route added later is checked too. For every route:
 * - no credential is 401 with a JSON reason and `WWW-Authenticate: Bearer` (except the probes and `/metrics`);
 * - a revoked key is 401;
 * - an owner key of project A, with every path parameter and the body naming project B's resources, gets 404 (the
 *   same body as a resource that does not exist), or 401 on the services' routes, or, for a route naming no
 *   resource, an answer that shows nothing of B; and B's resources are unchanged afterwards;
 * - a viewer key of A gets 403 naming the role needed on every mutating route of A's resources (401 on the
 *   services' routes; a key it does not manage is 404) and on the audit trail's reads, and 200 on every other read.
 * Path parameters are filled from a table by name and by the resource before them; a parameter the table does
 * not know fails the spec, so a new kind of route has to be taught here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka, Producer } from 'kafkajs';
import { createKafka, KafkaSnapshotEventPublisher, producerFor } from '@tidemark/bus';
import { USER_ACTIONS, type JobView, type RestoreView, type SnapshotView } from '@tidemark/jobs';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest, authorization, type HttpAnswer } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import {
  makeWorld,
  OPENAPI_PATH,
  registeredRoutes,
  RESTORE_TARGET as TARGET,
  type Route,
  type World,
} from './api-world';
import { cleanUp, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics, env } = specWorld('access', 'ac');
/** The only routes anyone may call without a credential: the probes, `/metrics`, the OpenAPI document and the
 * Backup page's files. */
const PUBLIC_PATHS = ['/healthz', '/readyz', '/metrics', OPENAPI_PATH, '/', '/ui', '/ui/:file'];
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Reads that need more than a viewer: the audit trail (its project's owner; every project's: the admin key). */
const READS_ABOVE_VIEWER = new Set(['GET /api/v1/projects/:name/audit', 'GET /api/v1/audit']);

/** The concrete requests of a route for one project's resources: each `:param` filled from the table. */
function requestsFor(route: Route, w: World): { path: string; body: unknown }[] {
  let paths = [route.path];
  for (const m of route.path.matchAll(/:([A-Za-z]+)/g)) {
    const name = m[1]!;
    const before = route.path.slice(0, m.index).split('/').filter(Boolean).at(-1);
    const values: string[] =
      name === 'sid'
        ? [w.snapshot]
        : name === 'name' && before === 'projects'
          ? [w.project]
          : name === 'action'
            ? [...USER_ACTIONS]
            : name === 'file'
              ? ['index.html']
              : name === 'id' && before === 'jobs'
                ? [w.job]
                : name === 'id' && before === 'restores'
                  ? [w.restore]
                  : name === 'id' && before === 'keys'
                    ? [w.keyId]
                    : [];
    assert.ok(values.length > 0, `no value for :${name} in ${route.method} ${route.path}: teach requestsFor`);
    paths = paths.flatMap((p) => values.map((v) => p.replace(`:${name}`, encodeURIComponent(v))));
  }
  // One body naming the project's resources in every field a route may read its project from.
  const body = {
    name: `new-${suffix}`,
    project: w.project,
    snapshotId: w.snapshot,
    jobId: w.job,
    point: '1700000000:1',
    target: TARGET,
    grants: { [w.project]: 'viewer' },
    source: { uri: endpoints.source.uri },
    reason: 'access spec',
  };
  return paths.map((path) => ({ path, body: MUTATING.has(route.method) ? body : undefined }));
}

describe('access control: every registered route, cross-project, roles, no key, revoked key', () => {
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let routes: Route[];
  let a: World;
  let b: World;
  const keys: Record<'ownerA' | 'viewerA' | 'revoked', string> = { ownerA: '', viewerA: '', revoked: '' };

  const url = (p: string) => `${service.url}${p}`;
  const asAdmin = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await apiRequest<T>(method, url(p), { body });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const isPublic = (r: Route) => PUBLIC_PATHS.includes(r.path);
  const isServiceRoute = (r: Route) => r.path.startsWith('/api/v1/agent/') || r.path.endsWith('/resume');

  before(async () => {
    service = await startJobState(env);
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-access-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
    const snapshots = new KafkaSnapshotEventPublisher(producer, topics.snapshots);
    a = await makeWorld(service.url, `a-${suffix}`, endpoints.source.uri, snapshots);
    b = await makeWorld(service.url, `b-${suffix}`, endpoints.source.uri, snapshots);
    const mint = async (grants: Record<string, string>) =>
      (await asAdmin<{ key: string }>('POST', '/api/v1/keys', { grants })).key;
    keys.ownerA = await mint({ [a.project]: 'owner' });
    keys.viewerA = await mint({ [a.project]: 'viewer' });
    keys.revoked = await mint({ [a.project]: 'owner' });
    routes = registeredRoutes(service.app);
  });

  after(async () => {
    await producer?.disconnect();
    await service?.app.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`],
    });
  });

  it('finds the routes in the running app: the API, the probes and the access routes', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'GET /healthz',
      'GET /api/v1/jobs',
      'POST /api/v1/jobs/:id/:action',
      'GET /api/v1/agent/jobs',
      'DELETE /api/v1/snapshots/:sid',
      'POST /api/v1/keys',
      'DELETE /api/v1/projects/:name',
    ])
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    assert.ok(routes.length >= 25, names.join(', '));
  });

  it('no credential: 401 with a JSON reason and WWW-Authenticate on every route but the probes and /metrics', async () => {
    for (const route of routes) {
      for (const req of requestsFor(route, a)) {
        const res = await apiRequest<{ message?: string }>(route.method, url(req.path), {
          key: null,
          body: req.body,
        });
        const what = `${route.method} ${req.path}`;
        if (isPublic(route)) {
          assert.notEqual(res.status, 401, what);
          continue;
        }
        assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.message ?? '', /no credential/, what);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, what);
      }
    }
    const bad = await apiRequest<{ message: string }>('GET', url('/api/v1/jobs'), { key: 'not-a-key' });
    assert.equal(bad.status, 401);
    assert.match(bad.body.message, /malformed API key/);
  });

  it("a key of project A gets 404 on every resource of project B (401 on the services' routes)", async () => {
    const traces = [b.project, b.job, b.snapshot, b.restore, b.keyId];
    const seen: string[] = [];
    for (const route of routes) {
      if (isPublic(route)) continue;
      for (const req of requestsFor(route, b)) {
        const res: HttpAnswer<{ message?: string }> = await apiRequest(route.method, url(req.path), {
          key: keys.ownerA,
          body: req.body,
        });
        const what = `${route.method} ${req.path}: ${res.status} ${JSON.stringify(res.body)}`;
        seen.push(`${route.method} ${route.path} ${res.status}`);
        if (isServiceRoute(route)) assert.equal(res.status, 401, what);
        else if (req.path !== route.path) assert.equal(res.status, 404, what);
        else if (READS_ABOVE_VIEWER.has(`${route.method} ${route.path}`)) assert.equal(res.status, 403, what);
        else if (route.method === 'GET') {
          assert.equal(res.status, 200, what);
          for (const t of traces) assert.ok(!JSON.stringify(res.body).includes(t), `${what} shows ${t}`);
        } else if (route.method === 'POST' && route.path === '/api/v1/projects')
          assert.equal(res.status, 403, what);
        else assert.equal(res.status, 404, what);
      }
    }
    // The 404 of a hidden resource is the 404 of a missing one, byte for byte but the id.
    const hidden = await apiRequest<unknown>('GET', url(`/api/v1/jobs/${b.job}`), { key: keys.ownerA });
    const missing = await apiRequest<unknown>('GET', url('/api/v1/jobs/zzzz9999'), { key: keys.ownerA });
    assert.equal(
      JSON.stringify(hidden.body).replace(b.job, 'ID'),
      JSON.stringify(missing.body).replace('zzzz9999', 'ID'),
    );
    // Nothing of B changed.
    const job = await asAdmin<JobView>('GET', `/api/v1/jobs/${b.job}`);
    assert.equal(job.state, 'inactive', seen.join('\n'));
    assert.equal((await asAdmin<SnapshotView>('GET', `/api/v1/snapshots/${b.snapshot}`)).state, 'complete');
    assert.equal((await asAdmin<RestoreView>('GET', `/api/v1/restores/${b.restore}`)).state, 'running');
    assert.equal((await asAdmin<{ name: string }>('GET', `/api/v1/projects/${b.project}`)).name, b.project);
    const bKey = (
      await asAdmin<{ keys: { id: string; revokedAt: string | null }[] }>('GET', '/api/v1/keys')
    ).keys.find((k) => k.id === b.keyId);
    assert.equal(bKey?.revokedAt, null);
  });

  it('a viewer key is refused every mutating route with 403 and the role needed, and reads with 200', async () => {
    for (const route of routes) {
      if (isPublic(route)) continue;
      for (const req of requestsFor(route, a)) {
        if (route.path.endsWith('/stream')) {
          // A live stream does not end: its status and type, then the connection is dropped.
          const ac = new AbortController();
          const res = await fetch(url(req.path), { headers: authorization(keys.viewerA), signal: ac.signal });
          ac.abort();
          assert.equal(res.status, 200, `${route.method} ${req.path}`);
          assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
          continue;
        }
        const res = await apiRequest<{ message?: string; requiredRole?: string }>(
          route.method,
          url(req.path),
          {
            key: keys.viewerA,
            body: req.body,
          },
        );
        const what = `${route.method} ${req.path}: ${res.status} ${JSON.stringify(res.body)}`;
        if (isServiceRoute(route)) assert.equal(res.status, 401, what);
        else if (!MUTATING.has(route.method) && !READS_ABOVE_VIEWER.has(`${route.method} ${route.path}`))
          assert.equal(res.status, 200, what);
        else if (route.method === 'DELETE' && route.path === '/api/v1/keys/:id')
          assert.equal(res.status, 404, `${what} (a key it does not manage)`);
        else {
          assert.equal(res.status, 403, what);
          assert.match(res.body.requiredRole ?? '', /^(operator|owner|admin)$/, what);
          assert.match(
            res.body.message ?? '',
            /needs (the role (operator|owner) on project|the admin key)/,
            what,
          );
        }
      }
    }
    assert.equal((await asAdmin<JobView>('GET', `/api/v1/jobs/${a.job}`)).state, 'inactive');
  });

  it('a revoked key is refused at once with 401 on every route', async () => {
    const id = /^tmk_([0-9a-f]{12})_/.exec(keys.revoked)![1]!;
    assert.equal((await apiRequest('GET', url(`/api/v1/jobs/${a.job}`), { key: keys.revoked })).status, 200);
    await asAdmin('DELETE', `/api/v1/keys/${id}`);
    for (const route of routes) {
      if (isPublic(route)) continue;
      for (const req of requestsFor(route, a)) {
        const res = await apiRequest<{ message?: string }>(route.method, url(req.path), {
          key: keys.revoked,
          body: req.body,
        });
        assert.equal(res.status, 401, `${route.method} ${req.path}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.message ?? '', /is revoked/);
      }
    }
  });

  it('the owner of A works in A: lists show A only, keys it mints stay within A, the service token reaches only the agent routes', async () => {
    const jobs = (await apiRequest<{ jobs: JobView[] }>('GET', url('/api/v1/jobs'), { key: keys.ownerA }))
      .body.jobs;
    assert.deepEqual(
      jobs.map((j) => j.id),
      [a.job],
    );
    const minted = await apiRequest<{ key: string; grants: object }>('POST', url('/api/v1/keys'), {
      key: keys.ownerA,
      body: { grants: { [a.project]: 'operator' } },
    });
    assert.equal(minted.status, 201, JSON.stringify(minted.body));
    const token = process.env['TIDEMARK_SERVICE_TOKEN']!;
    assert.equal((await apiRequest('GET', url('/api/v1/agent/jobs'), { key: token })).status, 200);
    assert.equal((await apiRequest('GET', url(`/api/v1/jobs/${a.job}/resume`), { key: token })).status, 200);
    assert.equal((await apiRequest('GET', url(`/api/v1/jobs/${a.job}`), { key: token })).status, 401);
    assert.equal((await apiRequest('GET', url('/api/v1/agent/jobs'), { key: keys.ownerA })).status, 401);
    assert.equal((await apiRequest('GET', url('/api/v1/agent/jobs'))).status, 401, 'not even the admin key');
    const empty = await apiRequest<{ message: string }>('DELETE', url(`/api/v1/projects/${a.project}`));
    assert.equal(empty.status, 409);
    assert.match(empty.body.message, /still holds a job/);
    const badBody = await apiRequest<{ problems: string[] }>('POST', url('/api/v1/keys'), {
      body: { grants: { [a.project]: 'root' } },
    });
    assert.equal(badBody.status, 400);
    assert.match(badBody.body.problems.join(), /must be one of viewer, operator, owner/);
  });
});
