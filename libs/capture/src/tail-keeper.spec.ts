import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { opTimeEquals } from '@tidemark/domain';
import { OPLOG_SHIPPING_RESTART } from '@tidemark/util';
import { DEFAULT_AGENT_SETTINGS, type AgentSettings } from './agent-settings';
import { TailKeeper } from './tail-keeper';
import type { SyncJob } from './sync-job';
import { eventually, MemoryPublisher, TransientError } from './testing/memory-publisher';
import { MemorySource } from './testing/memory-source';

const job: SyncJob = {
  jobId: 'job00003',
  syncId: 'job00003-s2',
  syncNo: 2,
  filters: { include: [], exclude: [] },
};
const settings: AgentSettings = {
  ...DEFAULT_AGENT_SETTINGS,
  oplogFlushMs: 10,
  tailRestart: OPLOG_SHIPPING_RESTART.with({ initialMs: 5, maxMs: 20 }),
};

describe('TailKeeper', () => {
  it('raises RESYNC_REQUIRED ("backup requires a resync") and stops when the oplog rolled past the position', async () => {
    const source = new MemorySource();
    const lost = source.append('i', 'shop.a', { _id: 1 }).ts;
    source.append('i', 'shop.a', { _id: 2 });
    source.truncateBefore({ t: lost.t, i: lost.i + 1 });
    const publisher = new MemoryPublisher();
    const tail = new TailKeeper({ source, publisher, settings }).start(
      job,
      lost,
      new AbortController().signal,
    );
    assert.equal(await tail.done, 'resync-required');
    const [alert] = publisher.alerts;
    assert.equal(alert!.code, 'RESYNC_REQUIRED');
    assert.equal(alert!.severity, 'critical');
    assert.equal(alert!.jobId, job.jobId);
    assert.match(alert!.message, /backup requires a resync/);
    assert.equal(alert!.context['requestedTs'], `${lost.t}:${lost.i}`);
    assert.equal(publisher.oplogSlices().length, 0);
  });

  it('restarts after a retriable failure from the last acknowledged position: nothing lost or doubled', async () => {
    const source = new MemorySource();
    const start = source.append('n', '', {}).ts;
    source.failNextTail(3, new TransientError('connection reset'));
    source.failNextTail(0, new TransientError('still down'));
    const publisher = new MemoryPublisher();
    const controller = new AbortController();
    const tail = new TailKeeper({ source, publisher, settings }).start(job, start, controller.signal);
    for (let k = 0; k < 60; k++) {
      source.append('i', 'shop.a', { _id: k });
      if (k % 5 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    const last = (await source.latestOplogTs())!;
    await eventually(() => opTimeEquals(publisher.shippedTs() ?? start, last), 5_000, 'everything shipped');
    controller.abort();
    assert.equal(await tail.done, 'stopped');
    assert.ok(source.tailsOpened.length >= 3, `reopened: ${source.tailsOpened.length} tails`);
    const ids = publisher
      .oplogSlices()
      .flatMap((s) => s.docs.map((d) => (BSON.deserialize(d)['o'] as { _id: number })._id));
    assert.deepEqual(
      ids,
      Array.from({ length: 60 }, (_, k) => k),
    );
    const slices = publisher.oplogSlices();
    for (let k = 1; k < slices.length; k++)
      assert.deepEqual(slices[k]!.meta.prevTs, slices[k - 1]!.meta.lastTs);
    assert.equal(publisher.alerts.length, 0);
  });

  it('raises OPLOG_TAIL_FAILED and stops on a failure no retry can fix', async () => {
    const source = new MemorySource();
    const start = source.append('n', '', {}).ts;
    source.failNextTail(0, new Error('authentication failed'));
    const publisher = new MemoryPublisher();
    const tail = new TailKeeper({ source, publisher, settings }).start(
      job,
      start,
      new AbortController().signal,
    );
    assert.equal(await tail.done, 'failed');
    assert.equal(publisher.alerts[0]!.code, 'OPLOG_TAIL_FAILED');
    assert.match(publisher.alerts[0]!.message, /authentication failed/);
  });

  it('counts its failures by error class: restarts retriable, a gap and a stop fatal', async () => {
    const failures: string[] = [];
    const metrics = {
      failure: (err: unknown, retriable: boolean) =>
        void failures.push(`${(err as Error).name}:${retriable}`),
    };
    // A restart, then a stop no retry can fix.
    const source = new MemorySource();
    const start = source.append('n', '', {}).ts;
    source.failNextTail(0, new TransientError('connection reset'));
    source.failNextTail(0, new TypeError('a bug'));
    const publisher = new MemoryPublisher();
    const failed = new TailKeeper({ source, publisher, settings, metrics }).start(
      job,
      start,
      new AbortController().signal,
    );
    assert.equal(await failed.done, 'failed');
    // A gap.
    const gapped = new MemorySource();
    const lost = gapped.append('i', 'shop.a', { _id: 1 }).ts;
    gapped.append('i', 'shop.a', { _id: 2 });
    gapped.truncateBefore({ t: lost.t, i: lost.i + 1 });
    const tail = new TailKeeper({ source: gapped, publisher, settings, metrics }).start(
      job,
      lost,
      new AbortController().signal,
    );
    assert.equal(await tail.done, 'resync-required');
    assert.deepEqual(failures, [
      `${new TransientError('x').name}:true`,
      'TypeError:false',
      'OplogGapError:false',
    ]);
  });
});
