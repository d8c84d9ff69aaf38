/**
 * Many jobs at once, fairly: a small job started while a large one is in its initial sync must complete and keep
 * its lag low, because the oplog store absorbs the large job's slices while head-builder and oplog-applier
 * interleave jobs. Reports both jobs' figures.
 *
 * Runs alone, after every other spec (`*.solo.int-spec.ts`, tools/cli/src/test-command.ts): its lag bound is a
 * timing, and the load of other suites beside it on a two-core machine pushed the lag past 30 s in two of three
 * clean-clone CI runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadedTestSource, runWriter, seedSource, ServiceStack, type TestSource } from '@tidemark/testing';
import { JobApi, suffix, type JobStatus } from './helpers';

const LARGE = Number(process.env['TIDEMARK_E2E_FAIRNESS_DOCS'] ?? 40_000);

describe('fairness between jobs', () => {
  let source: TestSource;
  let stack: ServiceStack;
  const s = suffix();
  const big = `fair${s}_big`;
  const small = `fair${s}_small`;

  before(async () => {
    source = await loadedTestSource({
      name: 'e2e-fair',
      oplogBytes: 16 * 1024 * 1024,
      load: (client) => seedSource(client, { collections: { [`${big}.a`]: LARGE, [`${small}.a`]: 1000 } }),
    });
    stack = new ServiceStack(
      {
        TIDEMARK_TOPIC_PREFIX: `e2e-fair-${s}`,
        TIDEMARK_META_DB: `e2e_meta_${s}`,
        TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
        TIDEMARK_SLICE_TARGET_BYTES: String(512 * 1024),
        TIDEMARK_OPLOG_FLUSH_MS: '500',
      },
      `fair-${s}`,
    );
    await stack.startAll(['job-state', 'agent', 'slice-ingest', 'head-builder', 'oplog-applier']);
  });

  after(async () => {
    await stack?.stopAll();
    await source?.client.db(big).dropDatabase();
    await source?.client.db(small).dropDatabase();
    await source?.stop();
  });

  it('a small job started during a large initial sync completes first and keeps a low lag', async () => {
    const api = new JobApi(stack.apiUrl);
    const uri = source.uri;
    await api.ensureProject('fair');
    const large = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project: 'fair',
      source: { uri },
      include: [big],
    });
    const little = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project: 'fair',
      source: { uri },
      include: [small],
    });
    const t0 = Date.now();
    await api.call('POST', `/api/v1/jobs/${large.id}/start`);
    await new Promise((r) => setTimeout(r, 2000));
    const writer = new AbortController();
    const writing = runWriter(source.client, [`${small}.a`], writer.signal, 20);
    await api.call('POST', `/api/v1/jobs/${little.id}/start`);
    const lags: number[] = [];
    let smallActiveAt = 0;
    let largeActiveAt = 0;
    try {
      while (!largeActiveAt) {
        assert.ok(Date.now() - t0 < 15 * 60_000, 'the large job did not finish in 15 minutes');
        const [l, m] = await Promise.all([
          api.call<JobStatus>('GET', `/api/v1/jobs/${large.id}/status`),
          api.call<JobStatus>('GET', `/api/v1/jobs/${little.id}/status`),
        ]);
        if (m.state === 'active' && !smallActiveAt) smallActiveAt = Date.now() - t0;
        if (m.state === 'active' && l.state !== 'active' && m.lag.seconds !== null) lags.push(m.lag.seconds);
        if (l.state === 'active') largeActiveAt = Date.now() - t0;
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      writer.abort();
      await writing;
    }
    const maxLag = lags.length ? Math.max(...lags) : null;
    console.log(
      `fairness: large job (${LARGE} docs) active after ${largeActiveAt} ms; small job (1000 docs, writer running) ` +
        `active after ${smallActiveAt} ms; small job's lag while the large one synced: ${lags.length} samples, ` +
        `max ${maxLag} s, last ${lags.at(-1) ?? null} s`,
    );
    assert.ok(
      smallActiveAt > 0 && smallActiveAt < largeActiveAt,
      'the small job must complete while the large one still syncs',
    );
    if (maxLag !== null)
      assert.ok(maxLag <= 30, `the small job's lag reached ${maxLag} s during the large sync`);
  });
});
