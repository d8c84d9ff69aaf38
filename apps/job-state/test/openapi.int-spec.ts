/**
 * job-state's OpenAPI document against the running app (real Kafka and backup-side MongoDB):
 * - it is OpenAPI 3.1, served without a credential, and its paths and methods are exactly the routes the app
 *   registered (the probes and `/metrics` of the service shell aside), so no route is missing or invented;
 * - every operation states its access rule, its bearer security (all but the document itself), its path
 *   parameters, its JSON answers and error answers, and its request body where it reads one;
 * - cross-project, generated from the document (a new route cannot escape it): a key holding the owner grant on
 *   project B calls every operation on project A's resources (job, snapshot, restore, project, key) and is refused
 *   every one that names them (404, the answer of a resource that does not exist; 401 on the services' routes;
 *   403 for the admin's), the lists show nothing of A, and nothing of A changed. The count is printed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka, Producer } from 'kafkajs';
import { createKafka, KafkaSnapshotEventPublisher, producerFor } from '@tidemark/bus';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import {
  makeWorld,
  OPENAPI_PATH,
  operationsOf,
  registeredRoutes,
  RESTORE_TARGET,
  servedDocument,
  worldState,
  type OpenApiDoc,
  type Operation,
  type World,
} from './api-world';
import { cleanUp, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics, env } = specWorld('openapi', 'oa');
/** The service shell's routes (every service has them) and the Backup page's files: not part of the API. */
const SHELL_ROUTES = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /', 'GET /ui', 'GET /ui/{file}'];

/** A document path's concrete paths for world `w`: each `{param}` from its name and the segment before it. */
function pathsFor(o: Operation, w: World): string[] {
  let paths = [o.path];
  for (const m of o.path.matchAll(/\{([^}]+)\}/g)) {
    const name = m[1]!;
    const before = o.path.slice(0, m.index).split('/').filter(Boolean).at(-1);
    const declared = o.op.parameters?.find((p) => p.in === 'path' && p.name === name);
    const values: string[] =
      declared?.schema?.enum !== undefined
        ? declared.schema.enum
        : name === 'sid'
          ? [w.snapshot]
          : name === 'name' && before === 'projects'
            ? [w.project]
            : name === 'id' && before === 'jobs'
              ? [w.job]
              : name === 'id' && before === 'restores'
                ? [w.restore]
                : name === 'id' && before === 'keys'
                  ? [w.keyId]
                  : [];
    assert.ok(values.length > 0, `no value for {${name}} in ${o.method} ${o.path}: teach pathsFor`);
    paths = paths.flatMap((p) => values.map((v) => p.replace(`{${name}}`, encodeURIComponent(v))));
  }
  return paths;
}

/** A body naming world `w`'s resources in every field a route may find its project in. */
function bodyFor(o: Operation, w: World): unknown {
  if (o.op.requestBody === undefined) return undefined;
  if (o.path === '/api/v1/keys') return { grants: { [w.project]: 'viewer' } };
  if (o.path === '/api/v1/projects') return { name: `new-${suffix}` };
  if (o.path === '/api/v1/restores') return { snapshotId: w.snapshot, target: RESTORE_TARGET };
  if (o.path === '/api/v1/jobs')
    return { project: w.project, source: { uri: endpoints.source.uri }, include: ['app'] };
  if (o.path.endsWith('/settings')) return { readLimit: 5 };
  if (o.path.endsWith('/progress')) return { documents: 1, bytes: 1, entries: 0 };
  if (o.path.endsWith('/finish')) return { state: 'complete' };
  if (o.path.endsWith('/{action}')) return { reason: 'openapi spec' };
  if (o.path === '/api/v1/agent/capture')
    return { positions: [{ jobId: w.job, syncId: `${w.job}-s1`, sourceTs: '1:1', shippedTs: '1:1' }] };
  assert.fail(`no body for ${o.method} ${o.path}: teach bodyFor`);
}

describe('OpenAPI document: matches every route, describes each, and drives the cross-project table', () => {
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let doc: OpenApiDoc;
  let a: World;
  let b: World;
  let ownerB = '';

  before(async () => {
    service = await startJobState(env);
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-openapi-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
    const snapshots = new KafkaSnapshotEventPublisher(producer, topics.snapshots);
    a = await makeWorld(service.url, `a-${suffix}`, endpoints.source.uri, snapshots);
    b = await makeWorld(service.url, `b-${suffix}`, endpoints.source.uri, snapshots);
    const minted = await apiRequest<{ key: string }>('POST', `${service.url}/api/v1/keys`, {
      body: { grants: { [b.project]: 'owner' } },
    });
    assert.equal(minted.status, 201);
    ownerB = minted.body.key;
    doc = await servedDocument(service.url);
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

  it('is OpenAPI 3.1 (no 3.0 keywords left), served without a credential, with the bearer scheme', () => {
    assert.equal(doc.openapi, '3.1.0');
    const text = JSON.stringify(doc);
    assert.doesNotMatch(text, /"nullable"/, 'JSON Schema 2020-12 types, not 3.0 nullable');
    assert.deepEqual(Object.keys(doc.components.securitySchemes ?? {}), ['bearer']);
  });

  it('has exactly the routes the app registered: every path and method, none invented', () => {
    const registered = registeredRoutes(service.app)
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`)
      .filter((r) => !SHELL_ROUTES.includes(r))
      .sort();
    const documented = operationsOf(doc)
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    assert.deepEqual(documented, registered);
    assert.ok(documented.length >= 26, documented.join('\n'));
    console.log(
      `openapi: ${documented.length} operations documented = ${registered.length} routes registered`,
    );
  });

  it('states for each operation its access rule, security, path parameters, answers and errors', () => {
    for (const o of operationsOf(doc)) {
      const what = `${o.method} ${o.path}`;
      const rule = o.op['x-tidemark-access'];
      assert.ok(rule !== undefined, `${what} states its access rule`);
      if (rule.kind === 'public') assert.deepEqual(o.op.security, [], what);
      else assert.deepEqual(o.op.security, [{ bearer: [] }], what);
      for (const m of o.path.matchAll(/\{([^}]+)\}/g))
        assert.ok(
          o.op.parameters?.some((p) => p.in === 'path' && p.name === m[1] && p.required === true),
          `${what} declares {${m[1]}}`,
        );
      const ok = Object.keys(o.op.responses).filter((s) => s.startsWith('2'));
      assert.equal(ok.length, 1, `${what}: one success answer`);
      for (const status of [...ok, ...(rule.kind === 'public' ? [] : ['400', '401', '413'])]) {
        const content = o.op.responses[status]?.content;
        // A success answer is JSON, or a stream of server-sent events (the live view).
        const schema =
          content?.['application/json']?.schema ??
          (ok.includes(status) ? content?.['text/event-stream']?.schema : undefined);
        if (status === '204') assert.equal(content, undefined, `${what}: 204 has no body`);
        else assert.ok(schema, `${what} ${status} has a schema`);
      }
      if (rule.kind === 'project' && o.path.includes('{')) assert.ok(o.op.responses['404'], `${what} 404`);
      if (['POST', 'PATCH', 'PUT'].includes(o.method) && o.op.requestBody !== undefined)
        assert.ok(o.op.requestBody.content['application/json']?.schema, `${what} body schema`);
    }
  });

  it("cross-project: an owner of B is refused every operation on A's resources, 100% of the document", async () => {
    const before = await worldState(service.url, a);
    const traces = [a.project, a.job, a.snapshot, a.restore, a.keyId];
    const ops = operationsOf(doc);
    const outcome: Record<string, number> = {};
    const covered = new Set<string>();
    let requests = 0;
    for (const o of ops) {
      const rule = o.op['x-tidemark-access']!;
      for (const path of pathsFor(o, a)) {
        const res = await apiRequest<{ message?: string }>(o.method, `${service.url}${path}`, {
          key: ownerB,
          body: bodyFor(o, a),
        });
        requests++;
        const what = `${o.method} ${path} (${rule.kind}): ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
        let expected: string;
        if (rule.kind === 'service') {
          assert.equal(res.status, 401, what);
          expected = '401 (service route)';
        } else if (rule.kind === 'admin') {
          assert.equal(res.status, 403, what);
          expected = '403 (admin route)';
        } else if (o.method === 'GET' && !o.path.includes('{')) {
          // A list or the document: answers, showing nothing of A.
          assert.equal(res.status, 200, what);
          for (const t of traces) assert.ok(!JSON.stringify(res.body).includes(t), `${what} shows ${t}`);
          expected = '200 showing nothing of A';
        } else {
          assert.equal(res.status, 404, what);
          assert.match(res.body.message ?? '', /not found/, what);
          expected = '404 (as if it did not exist)';
        }
        outcome[expected] = (outcome[expected] ?? 0) + 1;
        covered.add(`${o.method} ${o.path}`);
      }
    }
    assert.equal(covered.size, ops.length, 'every operation of the document was called');
    // The one GET with a query naming a job: A's job through the query is refused too.
    const byQuery = await apiRequest('GET', `${service.url}/api/v1/restores?job=${a.job}`, { key: ownerB });
    assert.equal(byQuery.status, 404);
    assert.equal(await worldState(service.url, a), before, 'nothing of A changed');
    const refused = requests - (outcome['200 showing nothing of A'] ?? 0);
    console.log(
      `cross-project: ${covered.size}/${ops.length} operations (100%), ${requests} requests: ` +
        `${refused} refused, ${JSON.stringify(outcome)}`,
    );
    // The document itself is public: the one operation without a credential.
    assert.ok(ops.some((o) => o.path === OPENAPI_PATH));
  });
});
