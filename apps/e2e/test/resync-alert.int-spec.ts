/**
 * Invariant 4, "the oplog has no gaps": a source of its own with a tiny capped oplog; the job is backed up, the
 * agent is killed, writes roll the oplog past the job's stored position, and the restarted agent must raise
 * "backup requires a resync" (RESYNC_REQUIRED) instead of carrying on with a gap: until the resync, the head never
 * holds a write made after the gap opened, nor an applied position past it. After the resync the head equals the
 * source (`compareHeads`: documents, counts, indexes).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import {
  compareHeads,
  ferretdbBackend,
  ServiceStack,
  startScratchFerretdb,
  type ScratchFerretdb,
} from '@tidemark/testing';
import { JobApi, latestSourceTs, parseTs, suffix, tsGte, type JobStatus } from './helpers';

describe('resync required after the source oplog rolled over', () => {
  let src: ScratchFerretdb;
  let client: MongoClient;
  let backup: MongoClient;
  let stack: ServiceStack;
  const s = suffix();

  before(async () => {
    // Tiny, so that the writes below roll it over. On PostgreSQL 64 KiB is too small even for the start: seen on
    // 2026-12-04, FerretDB's capped clean-up had dropped the job's start position before the marker below was
    // written (its size counts PostgreSQL's storage, not SQLite's), and the agent asked for a resync at once.
    const oplogBytes = ferretdbBackend('source') === 'postgresql' ? 512 * 1024 : 64 * 1024;
    src = await startScratchFerretdb({ name: `roll-${s}`, oplogBytes });
    client = await new MongoClient(src.uri).connect();
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    await client
      .db('rolldb')
      .collection('items')
      .insertMany(Array.from({ length: 100 }, (_, k) => ({ k })));
    stack = new ServiceStack(
      {
        TIDEMARK_TOPIC_PREFIX: `e2e-roll-${s}`,
        TIDEMARK_META_DB: `e2e_meta_${s}`,
        TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
        TIDEMARK_OPLOG_FLUSH_MS: '300',
      },
      `roll-${s}`,
    );
    await stack.startAll(['job-state', 'agent', 'slice-ingest', 'head-builder', 'oplog-applier']);
  });

  after(async () => {
    await stack?.stopAll();
    await client?.close();
    await backup?.close();
    await src?.stop();
  });

  it('raises RESYNC_REQUIRED ("backup requires a resync"), does not skip the lost entries, and a resync catches up', async () => {
    const api = new JobApi(stack.apiUrl);
    await api.ensureProject('roll');
    const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project: 'roll',
      source: { uri: src.uri },
      include: ['rolldb'],
    });
    await api.call('POST', `/api/v1/jobs/${job.id}/start`);
    const status = async () => api.call<JobStatus>('GET', `/api/v1/jobs/${job.id}/status`);
    const waitFor = async (what: string, ms: number, check: (s: JobStatus) => Promise<boolean>) => {
      const deadline = Date.now() + ms;
      for (;;) {
        if (await check(await status())) return;
        assert.ok(Date.now() < deadline, `timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    let headNs = '';
    await waitFor('the job to become active', 180_000, async (st) => {
      headNs = st.head.namespaces['rolldb.items'] ?? '';
      return st.state === 'active';
    });
    assert.notEqual(headNs, '', 'the head names rolldb.items');
    const head = () =>
      backup.db(headNs.slice(0, headNs.indexOf('.'))).collection(headNs.slice(headNs.indexOf('.') + 1));
    // A write the agent ships and the applier applies, so a stored oplog position exists.
    await client.db('rolldb').collection('items').insertOne({ marker: 1 });
    await waitFor(
      'the marker in the head',
      60_000,
      async () => (await head().countDocuments({ marker: 1 })) === 1,
    );
    await stack.kill('agent');
    // Every write from here on is after the gap's start: none of it may reach the head before the resync.
    const gapFrom = await latestSourceTs(client);
    for (let k = 0; k < 30; k++) {
      await client
        .db('rolldb')
        .collection('items')
        .insertMany(Array.from({ length: 100 }, (_, i) => ({ k, i, pad: 'p'.repeat(300) })));
    }
    await new Promise((r) => setTimeout(r, 3000)); // capped clean-up runs every second on this instance
    await stack.start('agent');
    const headBeforeTheGap = async (st: JobStatus): Promise<void> => {
      assert.equal(
        await head().countDocuments({ pad: { $exists: true } }),
        0,
        'a write after the gap is in the head',
      );
      assert.equal(await head().countDocuments({}), 101, 'the head holds the 100 documents and the marker');
      if (st.appliedOpTime !== null) {
        assert.ok(
          tsGte({ t: gapFrom.t, i: gapFrom.i }, parseTs(st.appliedOpTime)),
          `applied position ${st.appliedOpTime} is past the gap's start ${gapFrom.t}:${gapFrom.i}`,
        );
      }
    };
    let alert: { code: string; message: string } | undefined;
    await waitFor('the RESYNC_REQUIRED alert', 90_000, async (st) => {
      await headBeforeTheGap(st);
      alert = (st.alerts as Array<{ code: string; message: string }> | undefined)?.find(
        (a) => a.code === 'RESYNC_REQUIRED',
      );
      return alert !== undefined;
    });
    assert.ok(alert);
    assert.match(alert.message, /backup requires a resync/);
    // The alert does not end the check: the head must stay as it was while the job waits for the resync.
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 1000));
      await headBeforeTheGap(await status());
    }

    const before = await status();
    await api.call('POST', `/api/v1/jobs/${job.id}/resync`, { reason: 'the source oplog rolled over' });
    let namespaces: Record<string, string> = {};
    await waitFor('the resynced job to become active', 180_000, async (st) => {
      namespaces = st.head.namespaces;
      return st.state === 'active' && namespaces['rolldb.items'] !== before.head.namespaces['rolldb.items'];
    });
    const target = await latestSourceTs(client);
    await waitFor('lag zero after the resync', 120_000, async (st) => {
      return st.appliedOpTime !== null && tsGte(parseTs(st.appliedOpTime), target);
    });
    assert.deepEqual(Object.keys(namespaces), ['rolldb.items']);
    const problems = await compareHeads(client, backup, namespaces);
    assert.deepEqual(problems, [], problems.join('\n'));
    assert.equal(await client.db('rolldb').collection('items').countDocuments({}), 3101);
  });
});
