/**
 * Invariant 4, "the oplog has no gaps": a source of its own with a tiny capped oplog; the job is backed up, the
 * agent is killed, writes roll the oplog past the job's stored position, and the restarted agent must raise
 * "backup requires a resync" (RESYNC_REQUIRED) instead of carrying on with a gap.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { ServiceStack, startScratchFerretdb, type ScratchFerretdb } from '@tidemark/testing';
import { JobApi, suffix, type JobStatus } from './helpers';

describe('resync required after the source oplog rolled over', () => {
  let src: ScratchFerretdb;
  let client: MongoClient;
  let stack: ServiceStack;
  const s = suffix();

  before(async () => {
    src = await startScratchFerretdb({ name: `roll-${s}`, oplogBytes: 64 * 1024 });
    client = await new MongoClient(src.uri).connect();
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
    await src?.stop();
  });

  it('raises RESYNC_REQUIRED ("backup requires a resync") and does not skip the lost entries', async () => {
    const api = new JobApi(stack.apiUrl);
    const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
      project: 'roll',
      source: { uri: src.uri },
      include: ['rolldb'],
    });
    await api.call('POST', `/api/v1/jobs/${job.id}/start`);
    const status = async () => api.call<JobStatus>('GET', `/api/v1/jobs/${job.id}/status`);
    const deadline = Date.now() + 180_000;
    while ((await status()).state !== 'active') {
      assert.ok(Date.now() < deadline, 'the job did not become active');
      await new Promise((r) => setTimeout(r, 1000));
    }
    // A write the agent ships, so a stored oplog position exists.
    await client.db('rolldb').collection('items').insertOne({ marker: 1 });
    await new Promise((r) => setTimeout(r, 3000));
    await stack.kill('agent');
    for (let k = 0; k < 30; k++) {
      await client
        .db('rolldb')
        .collection('items')
        .insertMany(Array.from({ length: 100 }, (_, i) => ({ k, i, pad: 'p'.repeat(300) })));
    }
    await new Promise((r) => setTimeout(r, 3000)); // capped clean-up runs every second on this instance
    await stack.start('agent');
    let alert: { code: string; message: string } | undefined;
    const until = Date.now() + 90_000;
    while (!alert && Date.now() < until) {
      const alerts = (await status()).alerts as Array<{ code: string; message: string }> | undefined;
      alert = alerts?.find((a) => a.code === 'RESYNC_REQUIRED');
      if (!alert) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(alert, 'no RESYNC_REQUIRED alert reached the job');
    assert.match(alert.message, /backup requires a resync/);
  });
});
