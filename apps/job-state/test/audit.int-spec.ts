/**
 * The audit trail and the key-guessing limit, against job-state booted in-process with the real Kafka and the
 * backup-side MongoDB (FerretDB). An owner key of project A creates and starts a job (accepted, inactive →
 * initial-sync), asks to restart it while it syncs (409, from which state and why), names project B's job (404,
 * recorded under B), and a wrong secret for its id is refused (401, actor: the key id it names). Each is read back
 * through the API (the project's listing for its owner, the admin's listing) and from `tidemark.audit`, decoded
 * with the Avro schema, and no key, secret or token appears in any of them. Then a burst of wrong keys from one
 * address reaches the limit: 429 with `Retry-After` and a JSON reason (itself audited), while the valid key and the
 * admin key still work. A second part proves the outbox: events recorded while the producer cannot reach Kafka
 * stay owed in `<meta>.audit` and are published later by another job-state.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { AuditLog, generateApiKey, type AuditEventView } from '@tidemark/access';
import { MongoAuditStore } from '@tidemark/access-mongo';
import {
  auditEventOf,
  createKafka,
  defaultCodec,
  ensureTopics,
  KafkaAuditEventPublisher,
  producerFor,
} from '@tidemark/bus';
import type { AuditEvent } from '@tidemark/domain';
import type { JobView } from '@tidemark/jobs';
import { classifyMongoError } from '@tidemark/mongo';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { cleanUp, eventually, specWorld } from './support';

const LIMIT = 5;
const world = specWorld('audit', 'au');
const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics } = world;
const env: NodeJS.ProcessEnv = {
  ...world.env,
  TIDEMARK_AUTH_FAILURE_LIMIT: String(LIMIT),
  TIDEMARK_AUTH_FAILURE_WINDOW_MS: '600000',
  TIDEMARK_AUDIT_FLUSH_MS: '500',
};
const codec = defaultCodec();
const CLI = path.resolve(__dirname, '..', '..', '..', 'tools', 'cli', 'bin', 'tidemark.js');

/** Runs the `tidemark` CLI against `apiUrl` with `key`. */
function cli(
  apiUrl: string,
  key: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cliEnv: NodeJS.ProcessEnv = { ...process.env, TIDEMARK_API_URL: apiUrl, TIDEMARK_API_KEY: key };
  delete cliEnv['TIDEMARK_API_KEY_FILE'];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: cliEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Reads `tidemark.audit` from the beginning, decoding each value with the Avro schema; keeps the raw bytes. */
async function auditReader(kafka: Kafka, group: string) {
  const events: AuditEvent[] = [];
  const raw: Buffer[] = [];
  const keys: string[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.audit.name, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value === null) return;
      raw.push(message.value);
      keys.push(message.key?.toString() ?? '');
      events.push(auditEventOf(codec.decodeAs('tidemark.audit.AuditEvent', message.value, 'it')));
    },
  });
  return { consumer, events, raw, keys };
}

describe('audit trail and key-guessing limit (job-state, real Kafka and MongoDB)', () => {
  let service: RunningService;
  let kafka: Kafka;
  let reader: Awaited<ReturnType<typeof auditReader>>;
  const projectA = `a-${suffix}`;
  const projectB = `b-${suffix}`;
  let ownerA = { id: '', key: '' };
  let viewerA = '';
  let jobA = '';
  let jobB = '';
  const secrets: string[] = [];

  const url = (p: string) => `${service.url}${p}`;
  const asAdmin = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await apiRequest<T>(method, url(p), { body });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const listing = async (p: string, key?: string) => {
    const res = await apiRequest<{ events: AuditEventView[] }>(
      'GET',
      url(p),
      key === undefined ? {} : { key },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.events;
  };
  const byRequest = (events: AuditEventView[], requestId: string) =>
    events.find((e) => e.requestId === requestId);

  before(async () => {
    service = await startJobState(env);
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-audit-${suffix}` });
    reader = await auditReader(kafka, `it-audit-reader-${suffix}`);
    await asAdmin('POST', '/api/v1/projects', { name: projectA });
    await asAdmin('POST', '/api/v1/projects', { name: projectB });
    const owner = await asAdmin<{ id: string; key: string }>('POST', '/api/v1/keys', {
      grants: { [projectA]: 'owner' },
    });
    ownerA = { id: owner.id, key: owner.key };
    viewerA = (await asAdmin<{ key: string }>('POST', '/api/v1/keys', { grants: { [projectA]: 'viewer' } }))
      .key;
    jobB = (
      await asAdmin<JobView>('POST', '/api/v1/jobs', {
        project: projectB,
        source: { uri: endpoints.source.uri },
        include: ['app'],
      })
    ).id;
    secrets.push(
      ownerA.key,
      ownerA.key.slice(`tmk_${ownerA.id}_`.length),
      viewerA,
      viewerA.slice(17),
      env['TIDEMARK_ADMIN_KEY']!,
      env['TIDEMARK_SERVICE_TOKEN']!,
    );
  });

  after(async () => {
    await reader?.consumer.disconnect();
    await service?.app.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`, `it-audit-reader-${suffix}`],
    });
  });

  it('records an accepted start, a 409, a cross-project 404 and a 401 in the API and on tidemark.audit, without secrets', async () => {
    const send = async (method: string, path: string, key: string | null, body?: unknown) => {
      const requestId = `it-${randomUUID()}`;
      const res = await fetch(url(path), {
        method,
        headers: {
          'x-request-id': requestId,
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const answer = (await res.json()) as Record<string, unknown>;
      assert.equal(res.headers.get('x-request-id'), requestId, `${method} ${path}`);
      return { status: res.status, body: answer, requestId };
    };

    const created = await send('POST', '/api/v1/jobs', ownerA.key, {
      project: projectA,
      source: { uri: endpoints.source.uri },
      include: ['app'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    jobA = created.body['id'] as string;
    const started = await send('POST', `/api/v1/jobs/${jobA}/start`, ownerA.key);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const restarted = await send('POST', `/api/v1/jobs/${jobA}/restart`, ownerA.key);
    assert.equal(restarted.status, 409, JSON.stringify(restarted.body));
    const crossed = await send('POST', `/api/v1/jobs/${jobB}/stop`, ownerA.key);
    assert.equal(crossed.status, 404, JSON.stringify(crossed.body));
    const wrongSecret = `tmk_${ownerA.id}_${generateApiKey().secret}`;
    secrets.push(wrongSecret.slice(`tmk_${ownerA.id}_`.length));
    const unauthenticated = await send('GET', '/api/v1/jobs', wrongSecret);
    assert.equal(unauthenticated.status, 401);
    // A successful read is not recorded.
    const read = await send('GET', `/api/v1/jobs/${jobA}`, ownerA.key);
    assert.equal(read.status, 200);

    // The owner's listing of A, newest first.
    const ofA = await listing(`/api/v1/projects/${projectA}/audit`, ownerA.key);
    const at = ofA.map((e) => Date.parse(e.at));
    assert.deepEqual(
      at,
      [...at].sort((x, y) => y - x),
      'newest first',
    );
    assert.deepEqual(
      {
        ...byRequest(ofA, created.requestId),
        eventId: 'E',
        at: 'T',
      },
      {
        eventId: 'E',
        at: 'T',
        actor: ownerA.id,
        project: projectA,
        action: 'job.create',
        resource: { kind: 'job', id: jobA },
        outcome: 'ACCEPTED',
        status: 201,
        stateBefore: null,
        stateAfter: null,
        reason: null,
        method: 'POST',
        path: '/api/v1/jobs',
        requestId: created.requestId,
        clientAddress: '127.0.0.1',
      },
    );
    const start = byRequest(ofA, started.requestId);
    assert.equal(start?.action, 'job.start');
    assert.equal(start?.outcome, 'ACCEPTED');
    assert.equal(start?.stateBefore, 'inactive');
    assert.equal(start?.stateAfter, 'initial-sync');
    const conflict = byRequest(ofA, restarted.requestId);
    assert.equal(conflict?.action, 'job.restart');
    assert.equal(conflict?.outcome, 'REFUSED');
    assert.equal(conflict?.status, 409);
    assert.equal(conflict?.stateBefore, 'initial-sync');
    assert.equal(conflict?.stateAfter, null);
    assert.match(conflict?.reason ?? '', /action "restart" is not allowed in state "initial-sync"/);
    assert.equal(byRequest(ofA, read.requestId), undefined, 'a successful read is not audited');
    assert.equal(byRequest(ofA, crossed.requestId), undefined, "B's event is not in A's listing");

    // The cross-project attempt is B's (its owner sees who probed it); the 401 belongs to no project.
    const ofB = await listing(`/api/v1/projects/${projectB}/audit`);
    const probe = byRequest(ofB, crossed.requestId);
    assert.deepEqual(
      [probe?.actor, probe?.action, probe?.status, probe?.outcome, probe?.resource.id],
      [ownerA.id, 'job.stop', 404, 'REFUSED', jobB],
    );
    assert.match(probe?.reason ?? '', /not found/);
    const all = await listing('/api/v1/audit?limit=1000');
    const auth = byRequest(all, unauthenticated.requestId);
    assert.deepEqual(
      [auth?.actor, auth?.action, auth?.status, auth?.project, auth?.reason],
      [ownerA.id, 'auth', 401, null, 'unknown API key'],
    );

    // Only A's owner (or the admin key) may read A's audit; a bad query is a 400 with the reason.
    const viewer = await apiRequest('GET', url(`/api/v1/projects/${projectA}/audit`), { key: viewerA });
    assert.equal(viewer.status, 403);
    const bad = await apiRequest<{ message: string }>(
      'GET',
      url(`/api/v1/projects/${projectA}/audit?limit=0&before=yesterday`),
      { key: ownerA.key },
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /limit must be .*before must be/);
    const page = await listing(
      `/api/v1/projects/${projectA}/audit?limit=2&before=${encodeURIComponent(start!.at)}`,
    );
    assert.ok(page.length <= 2 && page.every((e) => Date.parse(e.at) < Date.parse(start!.at)));

    // The CLI shows the same listing (through the API, with the owner's key).
    const listed = await cli(service.url, ownerA.key, 'audit', 'list', '--project', projectA, '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const cliEvents = JSON.parse(listed.stdout) as AuditEventView[];
    assert.ok(cliEvents.some((e) => e.requestId === restarted.requestId && e.status === 409));
    const lines = await cli(service.url, ownerA.key, 'audit', 'list', '--project', projectA);
    assert.match(
      lines.stdout,
      /REFUSED 409 {2}job\.restart {2}job \S+ {2}by [0-9a-f]{12} {2}state initial-sync {2}reason "/,
    );
    const refusedCli = await cli(service.url, viewerA, 'audit', 'list', '--project', projectA);
    assert.equal(refusedCli.code, 1);
    assert.match(refusedCli.stderr, /needs the role owner/);

    // The same events on tidemark.audit, decoded with the Avro schema, keyed by project.
    const ids = [created, started, restarted, crossed, unauthenticated].map((r) => r.requestId);
    const onTopic = await eventually('the five events on tidemark.audit', async () => {
      const found = ids.map((id) => reader.events.find((e) => e.requestId === id));
      return found.every((e) => e !== undefined) ? (found as AuditEvent[]) : undefined;
    });
    const api = [...all, ...ofB];
    for (const e of onTopic) {
      const view = api.find((v) => v.eventId === e.eventId);
      assert.ok(view, `${e.action} ${e.requestId} in the API`);
      assert.equal(view.status, e.status);
      assert.equal(view.actor, e.actor);
      assert.equal(view.stateBefore, e.stateBefore ?? null);
      assert.equal(view.at, e.at.toISOString());
    }
    const keyOf = (e: AuditEvent) => reader.keys[reader.events.indexOf(e)];
    assert.deepEqual(onTopic.map(keyOf), [projectA, projectA, projectA, projectB, '-']);

    // No key, secret or token anywhere: API answers, topic bytes, stored documents.
    const client = new MongoClient(endpoints.backup.uri);
    try {
      const stored = JSON.stringify(await client.db(metaDb).collection('audit').find({}).toArray());
      const everything = [JSON.stringify(all), JSON.stringify(ofA), JSON.stringify(ofB), stored];
      everything.push(...reader.raw.map((b) => b.toString('latin1')));
      for (const secret of secrets)
        for (const text of everything) assert.ok(!text.includes(secret), 'a secret leaked into the audit');
    } finally {
      await client.close();
    }
  });

  it('a burst of wrong keys from one address gets 429 with Retry-After before any check; valid keys still work', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < LIMIT + 2 && limited === undefined; i++) {
      const guess = generateApiKey().token; // unknown key ids
      secrets.push(guess);
      const res = await fetch(url('/api/v1/jobs'), { headers: { authorization: `Bearer ${guess}` } });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    // The first test's wrong secret already counted once against this address.
    assert.deepEqual(statuses, [...Array<number>(LIMIT - 1).fill(401), 429]);
    const retryAfter = Number(limited!.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 600,
      `Retry-After ${retryAfter}`,
    );
    const body = (await limited!.json()) as { statusCode: number; message: string };
    assert.equal(body.statusCode, 429);
    assert.match(body.message, /too many failed authentications/);

    // The owner's key (verified before) and the admin key are not slowed.
    assert.equal((await apiRequest('GET', url('/api/v1/jobs'), { key: ownerA.key })).status, 200);
    assert.equal((await apiRequest('GET', url('/api/v1/jobs'))).status, 200);
    const again = await apiRequest('POST', url(`/api/v1/jobs/${jobA}/stop`), { key: ownerA.key });
    assert.equal(again.status, 200, JSON.stringify(again.body));

    // The refusal is audited as anonymous `auth` 429 (the guess named an unknown id: its id, never its secret).
    const all = await listing('/api/v1/audit?limit=1000');
    const tooMany = all.filter((e) => e.status === 429);
    assert.equal(tooMany.length, 1);
    assert.equal(tooMany[0]?.action, 'auth');
    assert.match(tooMany[0]?.actor ?? '', /^[0-9a-f]{12}$/);
    for (const secret of secrets) assert.ok(!JSON.stringify(all).includes(secret));
  });
});

describe('audit events outbox (real Kafka and MongoDB)', () => {
  const { suffix: s2, prefix: p2, metaDb: db2, endpoints: e2, topics: t2 } = specWorld('audit-outbox', 'ao');
  let kafka: Kafka;
  let producer: Producer;
  let unreachable: Producer;
  let client: MongoClient;

  before(async () => {
    kafka = createKafka({ brokers: e2.kafka.brokers, clientId: `it-audit-outbox-${s2}` });
    await ensureTopics(kafka, [t2.audit]);
    producer = producerFor(kafka);
    await producer.connect();
    // The producer of a job-state cut off from Kafka: never connected, every send fails.
    unreachable = producerFor(kafka);
    client = new MongoClient(e2.backup.uri);
    await client.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await client?.close();
    await cleanUp({ kafka, backupUri: e2.backup.uri, prefix: p2, databases: [db2], groups: [`it-ao-${s2}`] });
  });

  it('keeps events owed while Kafka is unreachable; another job-state publishes them, oldest first', async () => {
    const store = new MongoAuditStore(client, db2, classifyMongoError);
    await store.init();
    const log = (p: Producer) =>
      new AuditLog({
        store,
        publisher: new KafkaAuditEventPublisher(p, t2.audit),
        unstored: () => assert.fail('the store is up'),
        warn: () => undefined,
      });
    const cutOff = log(unreachable);
    const event = (n: number): AuditEvent => ({
      eventId: `ev-${s2}-${n}`,
      at: new Date(Date.now() + n),
      actor: 'admin',
      project: 'p',
      action: 'project.delete',
      resource: { kind: 'project', id: 'p' },
      outcome: 'refused',
      status: 409,
      stateBefore: undefined,
      stateAfter: undefined,
      reason: 'project p still holds a job',
      method: 'DELETE',
      path: '/api/v1/projects/p',
      requestId: `r-${n}`,
      clientAddress: '10.0.0.1',
    });
    await cutOff.record(event(1));
    await cutOff.record(event(2));
    await cutOff.idle();
    assert.deepEqual(
      (await store.owed(10)).map((e) => e.eventId),
      [`ev-${s2}-1`, `ev-${s2}-2`],
    );

    const replica = log(producer);
    assert.equal(await replica.flushOwed(), 2);
    assert.deepEqual(await store.owed(10), []);
    const consumer = kafka.consumer({ groupId: `it-ao-${s2}` });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: t2.audit.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(auditEventOf(codec.decodeAs('tidemark.audit.AuditEvent', message.value!, 'it')).eventId);
      },
    });
    try {
      await eventually('both owed events on the topic', async () => (seen.length >= 2 ? true : undefined));
      assert.deepEqual(seen, [`ev-${s2}-1`, `ev-${s2}-2`]);
    } finally {
      await consumer.disconnect();
    }
  });
});
