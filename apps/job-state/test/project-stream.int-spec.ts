/**
 * `GET /api/v1/projects/:name/stream`, the Backup page's live view, against job-state in process with real Kafka
 * and MongoDB: a viewer gets the project's view at once and each change (an action on a job) without asking again;
 * no key is 401, another project's stream the project's own 404; the number of open streams is bounded (503 beyond
 * `TIDEMARK_UI_MAX_STREAMS`, room again once a stream closes); no key or token appears in a view. The events are
 * read with the page's own parser (`page-logic.mjs`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { createKafka } from '@tidemark/bus';
import type { JobView, ProjectView } from '@tidemark/jobs';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest, authorization, testApiKey } from '@tidemark/testing';
import { parseEvents } from '../assets/backup-page/page-logic.mjs';
import { startJobState } from '../src/job-state-service';
import { cleanUp, eventually, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, env } = specWorld('stream', 'st');
const MAX_STREAMS = 2;

interface Stream {
  readonly status: number;
  readonly contentType: string;
  /** The next event of `type` whose data passes `ok`, parsed. */
  next<T>(type: string, ok: (data: T) => boolean, timeoutMs?: number): Promise<T>;
  close(): void;
}

async function open(url: string, key: string | null): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: key === null ? {} : authorization(key), signal: ac.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const queue: { type: string; data: string }[] = [];
  let rest = '';
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    async next<T>(type: string, ok: (data: T) => boolean, timeoutMs = 20_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
          const data = JSON.parse(e.data) as T;
          if (e.type === type && ok(data)) return data;
        }
        const left = deadline - Date.now();
        assert.ok(left > 0, `no ${type} event as wanted within ${timeoutMs} ms`);
        const chunk = await Promise.race([
          reader.read(),
          new Promise<'late'>((r) => setTimeout(() => r('late'), left).unref()),
        ]);
        if (chunk === 'late') continue;
        assert.ok(!chunk.done, 'the stream ended');
        const parsed = parseEvents(rest + chunk.value);
        rest = parsed.rest;
        queue.push(...parsed.events);
      }
    },
    close: () => ac.abort(),
  };
}

describe('the live view of a project (server-sent events)', () => {
  let service: RunningService;
  let kafka: Kafka;
  const a = `sa-${suffix}`;
  const b = `sb-${suffix}`;
  let job: JobView;
  let viewer = '';
  const url = (p: string) => `${service.url}${p}`;
  const asAdmin = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await apiRequest<T>(method, url(p), { body });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  before(async () => {
    service = await startJobState({
      ...env,
      TIDEMARK_UI_POLL_MS: '200',
      TIDEMARK_UI_MAX_STREAMS: String(MAX_STREAMS),
    });
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-stream-${suffix}` });
    await asAdmin('POST', '/api/v1/projects', { name: a });
    await asAdmin('POST', '/api/v1/projects', { name: b });
    job = await asAdmin<JobView>('POST', '/api/v1/jobs', {
      project: a,
      source: { uri: endpoints.source.uri },
      include: ['app'],
    });
    viewer = (await asAdmin<{ key: string }>('POST', '/api/v1/keys', { grants: { [a]: 'viewer' } })).key;
  });

  after(async () => {
    await service?.app.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`],
    });
  });

  it("a viewer gets the project's jobs at once, then each change without asking", async () => {
    const stream = await open(url(`/api/v1/projects/${a}/stream`), viewer);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.contentType, /^text\/event-stream/);
      const first = await stream.next<ProjectView>('view', () => true);
      assert.equal(first.project, a);
      assert.equal(first.truncated, false);
      assert.deepEqual(
        first.jobs.map((j) => [j.job.id, j.job.state, j.job.allowedActions, j.status.state]),
        [[job.id, 'inactive', ['start'], 'inactive']],
      );
      assert.deepEqual(first.jobs[0]?.snapshots, []);
      assert.deepEqual(first.jobs[0]?.restores, []);
      await asAdmin('POST', `/api/v1/jobs/${job.id}/start`);
      const started = await stream.next<ProjectView>('view', (v) => v.jobs[0]?.job.state === 'initial-sync');
      assert.equal(started.jobs[0]?.status.phase, 'starting');
      assert.deepEqual(started.jobs[0]?.job.allowedActions, ['stop', 'resync']);
      const text = JSON.stringify(started);
      for (const secret of [viewer, testApiKey(), process.env['TIDEMARK_SERVICE_TOKEN'] ?? 'unset'])
        assert.ok(!text.includes(secret), 'no key or token in a view');
    } finally {
      stream.close();
    }
  });

  it("no key is 401; another project's stream, or one that does not exist, is that project's 404", async () => {
    const none = await apiRequest<{ message: string }>('GET', url(`/api/v1/projects/${a}/stream`), {
      key: null,
    });
    assert.equal(none.status, 401);
    const other = await apiRequest<{ message: string }>('GET', url(`/api/v1/projects/${b}/stream`), {
      key: viewer,
    });
    const missing = await apiRequest<{ message: string }>(
      'GET',
      url(`/api/v1/projects/nope-${suffix}/stream`),
      { key: viewer },
    );
    assert.equal(other.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(other.body.message.replace(b, 'P'), missing.body.message.replace(`nope-${suffix}`, 'P'));
  });

  it(`at most ${MAX_STREAMS} streams at once: one more is 503 with the reason, and room comes back`, async () => {
    const streams = [
      await open(url(`/api/v1/projects/${a}/stream`), viewer),
      await open(url(`/api/v1/projects/${a}/stream`), testApiKey()),
    ];
    try {
      for (const s of streams) assert.equal(s.status, 200);
      const full = await apiRequest<{ message: string }>('GET', url(`/api/v1/projects/${a}/stream`), {
        key: viewer,
      });
      assert.equal(full.status, 503);
      assert.match(full.body.message, /too many live views are open \(at most 2\)/);
      streams.pop()?.close();
      const again = await eventually('room for a stream', async () => {
        const s = await open(url(`/api/v1/projects/${a}/stream`), viewer);
        if (s.status === 200) return s;
        s.close();
        return undefined;
      });
      streams.push(again);
      await again.next<ProjectView>('view', (v) => v.project === a);
    } finally {
      for (const s of streams) s.close();
    }
  });
});
