import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { isAfter, opTimeEquals, OplogGapError, type NamespaceFilters, type OpTime } from '@tidemark/domain';
import { DEFAULT_AGENT_SETTINGS, type AgentSettings } from './agent-settings';
import { OplogShipper } from './oplog-shipper';
import { eventually, MemoryPublisher, TransientError } from './testing/memory-publisher';
import { MemorySource } from './testing/memory-source';

const job = { jobId: 'job00001', syncId: 'job00001-s1' };
const filters: NamespaceFilters = { include: ['shop.orders'], exclude: [] };
const settings: AgentSettings = { ...DEFAULT_AGENT_SETTINGS, oplogFlushMs: 30 };

/** Starts a shipper; returns it with a stop function that resolves once `run` settled. */
function ship(source: MemorySource, publisher: MemoryPublisher, prevTs: OpTime, s: AgentSettings = settings) {
  const controller = new AbortController();
  const shipper = new OplogShipper({ publisher, settings: s }, job, prevTs);
  const running = shipper.run(source, filters, controller.signal);
  return {
    shipper,
    running,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/** Checks the oplog slices are back to back from `prevTs` and returns their entries' ids, in order. */
function checkBackToBack(publisher: MemoryPublisher, prevTs: OpTime): unknown[] {
  let prev = prevTs;
  const ids: unknown[] = [];
  publisher.oplogSlices().forEach((s, k) => {
    assert.deepEqual(s.meta.prevTs, prev, `slice ${k} starts where the previous ended`);
    assert.ok(isAfter(s.meta.lastTs, s.meta.prevTs));
    assert.equal(s.meta.sequence, k);
    assert.equal(s.meta.sliceId, `${job.syncId}:o:${prev.t}.${prev.i}:${s.meta.lastTs.t}.${s.meta.lastTs.i}`);
    for (const doc of s.docs) {
      const entry = BSON.deserialize(doc);
      const ts = { t: entry['ts'].t as number, i: entry['ts'].i as number };
      assert.ok(isAfter(ts, s.meta.prevTs) && !isAfter(ts, s.meta.lastTs), 'entry inside the range');
      ids.push((entry['o'] as { _id: unknown })._id);
    }
    if (s.docs.length > 0) {
      const first = BSON.deserialize(s.docs[0]!)['ts'];
      assert.ok(s.meta.firstTs !== undefined && opTimeEquals(s.meta.firstTs, { t: first.t, i: first.i }));
    }
    prev = s.meta.lastTs;
  });
  return ids;
}

describe('OplogShipper', () => {
  it('ships every selected entry once, in order, in back-to-back complete ranges', async () => {
    const source = new MemorySource();
    const start = source.append('n', '', { msg: 'start' }).ts;
    const { stop } = ship(source, new MemoryPublisher(), start);
    await stop();
    const publisher = new MemoryPublisher();
    const run = ship(source, publisher, start);
    for (let k = 0; k < 40; k++) {
      source.append('i', k % 3 === 0 ? 'shop.users' : 'shop.orders', { _id: k });
      if (k % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const last = (await source.latestOplogTs())!;
    await eventually(
      () => opTimeEquals(publisher.shippedTs() ?? start, last),
      5_000,
      'the last entry shipped',
    );
    await run.stop();
    const ids = checkBackToBack(publisher, start);
    assert.deepEqual(
      ids,
      Array.from({ length: 40 }, (_, k) => k).filter((k) => k % 3 !== 0),
    );
  });

  it('ships an empty range when only other namespaces wrote, and nothing when nothing happened', async () => {
    const source = new MemorySource();
    const start = source.append('i', 'shop.orders', { _id: 'a' }).ts;
    const publisher = new MemoryPublisher();
    const run = ship(source, publisher, start);
    await new Promise((r) => setTimeout(r, 150)); // idle: several flush intervals
    assert.equal(publisher.oplogSlices().length, 0, 'no slice while nothing happened');
    const noise = source.append('i', 'crm.leads', { _id: 1 }).ts;
    await eventually(() => publisher.oplogSlices().length === 1, 2_000, 'the empty-range slice');
    const [slice] = publisher.oplogSlices();
    assert.equal(slice!.meta.docCount, 0);
    assert.equal(slice!.meta.firstTs, undefined);
    assert.deepEqual(slice!.meta.prevTs, start);
    assert.deepEqual(slice!.meta.lastTs, noise);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(publisher.oplogSlices().length, 1, 'still one slice: nothing happened since');
    await run.stop();
  });

  it('cuts on size: each sized slice ends at its own last entry, the next starts there', async () => {
    const source = new MemorySource();
    const start = source.append('n', '', {}).ts;
    const publisher = new MemoryPublisher();
    const small: AgentSettings = { ...settings, sliceTargetBytes: 2048, codec: 'none', oplogFlushMs: 60_000 };
    const run = ship(source, publisher, start, small);
    for (let k = 0; k < 50; k++) source.append('u', 'shop.orders', { _id: k, pad: 'x'.repeat(200) });
    await eventually(() => publisher.oplogSlices().length >= 5, 5_000, 'size cuts');
    await run.stop();
    for (const s of publisher.oplogSlices()) {
      const lastEntry = BSON.deserialize(s.docs.at(-1)!)['ts'];
      assert.deepEqual(
        s.meta.lastTs,
        { t: lastEntry.t, i: lastEntry.i },
        'a size cut ends at its last entry',
      );
      assert.ok(s.meta.rawBytes <= 2048 + 300);
    }
    checkBackToBack(publisher, start);
  });

  it('holds back the tail while Kafka does not acknowledge (bounded queue)', async () => {
    const source = new MemorySource();
    const start = source.append('n', '', {}).ts;
    const publisher = new MemoryPublisher();
    // Slices of ~2 KiB (about 5 tail batches), a queue of 2 batches: memory is the slice being built, the queue
    // and the one batch the tail holds while waiting to put it.
    const tight: AgentSettings = {
      ...settings,
      codec: 'none',
      sliceTargetBytes: 2048,
      oplogQueueBatches: 2,
      oplogQueueBytes: 1024 * 1024,
      oplogFlushMs: 60_000,
    };
    const run = ship(source, publisher, start, tight);
    publisher.hold();
    for (let k = 0; k < 500; k++) source.append('i', 'shop.orders', { _id: k });
    await eventually(() => publisher.waiting > 0, 2_000, 'a publish waiting for its acknowledgement');
    // Wait until the tail stopped reading (it fills the queue, then blocks on put).
    let previous = -1;
    await eventually(
      () => {
        const settled = source.batchesRead === previous;
        previous = source.batchesRead;
        return settled;
      },
      3_000,
      'the tail to stop reading',
      50,
    );
    const readWhileBlocked = source.batchesRead;
    assert.ok(readWhileBlocked <= 12, `read ${readWhileBlocked} batches of ~72 while blocked`);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(
      source.batchesRead,
      readWhileBlocked,
      'the tail stays blocked while Kafka does not acknowledge',
    );
    publisher.release();
    await eventually(
      () => publisher.oplogSlices().reduce((n, s) => n + s.meta.docCount, 0) >= 480,
      5_000,
      'shipped after release',
    );
    await run.stop();
    const ids = checkBackToBack(publisher, start);
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, k) => k),
      'in order, none lost or doubled',
    );
  });

  it("fails with the tail's OplogGapError", async () => {
    const source = new MemorySource();
    source.append('i', 'shop.orders', { _id: 1 });
    const old = source.append('i', 'shop.orders', { _id: 2 }).ts;
    source.append('i', 'shop.orders', { _id: 3 });
    source.truncateBefore({ t: old.t, i: old.i + 1 });
    const run = ship(source, new MemoryPublisher(), old);
    await assert.rejects(run.running, OplogGapError);
  });

  it('fails with a publish error and keeps shippedTs at the last acknowledged slice', async () => {
    const source = new MemorySource();
    const start = source.append('n', '', {}).ts;
    const publisher = new MemoryPublisher();
    const run = ship(source, publisher, start);
    source.append('i', 'shop.orders', { _id: 1 });
    await eventually(() => publisher.oplogSlices().length === 1, 2_000, 'first slice');
    const acked = publisher.shippedTs()!;
    publisher.failNext('slice', new TransientError('broker down'));
    source.append('i', 'shop.orders', { _id: 2 });
    await assert.rejects(run.running, TransientError);
    assert.deepEqual(run.shipper.shippedTs, acked);
  });
});
