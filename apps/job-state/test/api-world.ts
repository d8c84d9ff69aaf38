/**
 * What the API specs of job-state share: the routes the running app registered, the OpenAPI document it serves,
 * and one project's resources (a project, a job, a complete snapshot, a running restore and an owner key) made
 * through the API with the admin key.
 */
import assert from 'node:assert/strict';
import type { INestApplication } from '@nestjs/common';
import type { KafkaSnapshotEventPublisher } from '@tidemark/bus';
import { opTime } from '@tidemark/domain';
import type { JobView, RestoreView, SnapshotView } from '@tidemark/jobs';
import { apiRequest } from '@tidemark/testing';
import { eventually } from './support';

export interface Route {
  readonly method: string;
  readonly path: string;
}

/** Every route the running app registered on its HTTP server (Express's router, as Nest filled it). */
export function registeredRoutes(app: INestApplication): Route[] {
  const express = app.getHttpAdapter().getInstance() as {
    router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    _router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const routes: Route[] = [];
  for (const layer of stack) {
    if (layer.route === undefined) continue;
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on && method !== '_all') routes.push({ method: method.toUpperCase(), path: layer.route.path });
  }
  return routes;
}

/** One operation of the OpenAPI document. */
export interface Operation {
  readonly method: string;
  /** As the document writes it: `/api/v1/jobs/{id}`. */
  readonly path: string;
  readonly op: OpenApiOperation;
}

export interface OpenApiOperation {
  readonly parameters?: { name: string; in: string; required?: boolean; schema?: { enum?: string[] } }[];
  readonly requestBody?: { content: Record<string, { schema: unknown }> };
  readonly responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  readonly security?: Record<string, string[]>[];
  readonly 'x-tidemark-access'?: { kind: string; need?: string; resource?: string };
}

export interface OpenApiDoc {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, OpenApiOperation>>;
  readonly components: { securitySchemes?: Record<string, unknown> };
}

export const OPENAPI_PATH = '/api/v1/openapi.json';

/** The document the app serves, fetched as a client would: without a credential. */
export async function servedDocument(baseUrl: string): Promise<OpenApiDoc> {
  const res = await apiRequest<OpenApiDoc>('GET', `${baseUrl}${OPENAPI_PATH}`, { key: null });
  assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
  return res.body;
}

export function operationsOf(doc: OpenApiDoc): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      if (['get', 'put', 'post', 'delete', 'patch'].includes(method))
        out.push({ method: method.toUpperCase(), path, op });
  return out;
}

/** One project's resources, as the admin key made them. */
export interface World {
  readonly project: string;
  readonly job: string;
  readonly snapshot: string;
  readonly restore: string;
  /** A key with an owner grant on the project. */
  readonly keyId: string;
}

export const RESTORE_TARGET = 'mongodb://127.0.0.1:27217/?replicaSet=rs0';

/** With the admin key: the project `name`, a job in it, a complete snapshot of the job, a running restore, a key. */
export async function makeWorld(
  baseUrl: string,
  name: string,
  sourceUri: string,
  snapshots: KafkaSnapshotEventPublisher,
): Promise<World> {
  const asAdmin = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await apiRequest<T>(method, `${baseUrl}${p}`, { body });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await asAdmin('POST', '/api/v1/projects', { name });
  const job = await asAdmin<JobView>('POST', '/api/v1/jobs', {
    project: name,
    source: { uri: sourceUri },
    include: ['app'],
  });
  const snapshot = `${job.id}-20261204T010000Z-a0a0`;
  await snapshots.publish({
    event: 'completed',
    snapshotId: snapshot,
    jobId: job.id,
    syncId: `${job.id}-s1`,
    store: 'blockstore',
    opTime: opTime(1_700_000_000, 5),
    opWallTime: new Date('2023-11-14T22:13:20.000Z'),
    takenAt: new Date('2026-12-04T01:00:00.000Z'),
    logicalBytes: 100,
    storedBytes: 100,
    namespaceCount: 1,
    documentCount: 10,
    at: new Date(),
    completedAt: new Date(),
  });
  await eventually(`snapshot ${snapshot} folded`, async () =>
    (await apiRequest<SnapshotView>('GET', `${baseUrl}/api/v1/snapshots/${snapshot}`)).body.state ===
    'complete'
      ? true
      : undefined,
  );
  const restore = await asAdmin<RestoreView>('POST', '/api/v1/restores', {
    snapshotId: snapshot,
    target: RESTORE_TARGET,
  });
  const key = await asAdmin<{ id: string }>('POST', '/api/v1/keys', { grants: { [name]: 'owner' } });
  return { project: name, job: job.id, snapshot, restore: restore.id, keyId: key.id };
}

/** Everything the admin key reads of a world, to compare before and after. */
export async function worldState(baseUrl: string, w: World): Promise<string> {
  const get = async (p: string) => (await apiRequest('GET', `${baseUrl}${p}`)).body;
  const keys = (await get('/api/v1/keys')) as { keys: { id: string }[] };
  return JSON.stringify({
    job: await get(`/api/v1/jobs/${w.job}`),
    status: await get(`/api/v1/jobs/${w.job}/status`),
    snapshots: await get(`/api/v1/jobs/${w.job}/snapshots`),
    restores: await get(`/api/v1/restores?job=${w.job}`),
    project: await get(`/api/v1/projects/${w.project}`),
    key: keys.keys.find((k) => k.id === w.keyId),
  });
}
