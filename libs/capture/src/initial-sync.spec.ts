import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { isAfter, opTimeEquals } from '@tidemark/domain';
import { DEFAULT_AGENT_SETTINGS, type AgentSettings } from './agent-settings';
import { InitialSync } from './initial-sync';
import type { Clock } from './ports';
import type { SyncJob } from './sync-job';
import { eventually, MemoryPublisher } from './testing/memory-publisher';
import { MemorySource } from './testing/memory-source';

const job: SyncJob = {
  jobId: 'job00002',
  syncId: 'job00002-s1',
  syncNo: 1,
  filters: { include: ['shop'], exclude: [] },
};
const settings: AgentSettings = {
  ...DEFAULT_AGENT_SETTINGS,
  sliceTargetBytes: 4096,
  codec: 'gzip',
  oplogFlushMs: 20,
  progressIntervalMs: 1000,
};
const hex = (b: Buffer): string => b.toString('hex');

function shop(source: MemorySource): Map<string, Buffer[]> {
  const docs = new Map<string, Buffer[]>();
  docs.set(
    'shop.orders',
    source.addCollection(
      'shop.orders',
      Array.from({ length: 700 }, (_, k) => ({ _id: k, item: `item-${k}`, pad: 'x'.repeat(k % 50) })),
      {
        indexes: [
          { v: 2, key: { _id: 1 }, name: '_id_' },
          { v: 2, key: { item: 1 }, name: 'item_1' },
        ],
      },
    ),
  );
  docs.set(
    'shop.users',
    source.addCollection(
      'shop.users',
      Array.from({ length: 90 }, (_, k) => ({ _id: `u${k}` })),
    ),
  );
  docs.set('shop.empty', source.addCollection('shop.empty', [], { options: { capped: true, size: 4096 } }));
  source.addCollection('crm.leads', [{ _id: 1 }]);
  return docs;
}

describe('InitialSync', () => {
  it('publishes TRANSFERRING, every document exactly once, then the catalog with the right counts', async () => {
    const source = new MemorySource();
    const docs = shop(source);
    source.append('i', 'shop.orders', { _id: 'before' });
    const publisher = new MemoryPublisher();
    const controller = new AbortController();
    const result = await new InitialSync({ source, publisher, settings }).run(job, controller.signal);
    controller.abort();
    await result.tail.done;

    const [first] = publisher.log;
    assert.equal(first?.type, 'phase');
    assert.equal(first.type === 'phase' && first.phase.phase, 'transferring');
    const startTs = (await source.latestOplogTs())!;
    assert.deepEqual(result.startTs, startTs);
    assert.deepEqual(publisher.phases[0]!.details, {
      startTs: `${startTs.t}.${startTs.i}`,
      serverVersion: '7.0.14',
      featureCompatibilityVersion: '7.0',
    });

    const initial = publisher.slices.filter((s) => s.meta.kind === 'initial');
    for (const [ns, expected] of docs) {
      const slices = initial.filter((s) => s.meta.kind === 'initial' && s.meta.namespace === ns);
      const got = slices.flatMap((s) => s.docs).map(hex);
      assert.deepEqual(got.sort(), expected.map(hex).sort(), `${ns}: every document's bytes exactly once`);
      assert.deepEqual(
        slices.map((s) => s.meta.sliceId),
        slices.map((_, k) => `${job.syncId}:i:${ns}:${k}`),
      );
      assert.ok(slices.every((s) => s.meta.kind === 'initial' && s.meta.origin === 'scan'));
    }
    assert.ok(
      initial.filter((s) => s.meta.kind === 'initial' && s.meta.namespace === 'shop.orders').length > 1,
      'several slices',
    );
    const empty = initial.filter((s) => s.meta.kind === 'initial' && s.meta.namespace === 'shop.empty');
    assert.equal(empty.length, 1, 'an empty collection still has one slice');
    assert.equal(empty[0]!.meta.docCount, 0);
    assert.ok(
      !initial.some((s) => s.meta.kind === 'initial' && s.meta.namespace === 'crm.leads'),
      'unselected namespace',
    );

    const last = publisher.log.at(-1)!;
    assert.ok(
      last.type === 'slice' && last.slice.meta.kind === 'catalog',
      'the catalog comes after every slice',
    );
    assert.equal(last.slice.meta.sliceId, `${job.syncId}:c:scan`);
    const [catalog] = publisher.catalogs();
    assert.equal(catalog!.origin, 'scan');
    assert.deepEqual(catalog!.startTs, startTs);
    assert.ok(!isAfter(catalog!.startTs, catalog!.endTs));
    assert.equal(catalog!.serverVersion, '7.0.14');
    assert.deepEqual(
      catalog!.namespaces.map((n) => [n.ns, n.docCount]),
      [
        ['shop.empty', 0],
        ['shop.orders', 700],
        ['shop.users', 90],
      ],
    );
    for (const n of catalog!.namespaces) {
      assert.equal(
        n.sliceCount,
        initial.filter((s) => s.meta.kind === 'initial' && s.meta.namespace === n.ns).length,
      );
    }
    assert.deepEqual(catalog!.namespaces[0]!.options, { capped: true, size: 4096 });
    assert.deepEqual(
      catalog!.namespaces[1]!.indexes?.map((i) => i['name']),
      ['_id_', 'item_1'],
    );
    assert.equal(result.docs, 790);
    const final = publisher.phases.at(-1)!;
    assert.equal(final.progress.docsCopied, 790n);
    assert.equal(final.progress.docsTotal, 790n);
    assert.equal(final.details['endTs'], `${catalog!.endTs.t}.${catalog!.endTs.i}`);
  });

  it('ships writes made during the scan in oplog slices starting at startTs', async () => {
    const source = new MemorySource();
    shop(source);
    source.append('n', '', {});
    let written = 0;
    source.onScanDocument = (ns, index) => {
      if (ns === 'shop.orders' && index % 100 === 50) {
        source.append(
          'u',
          'shop.orders',
          { $v: 1, $set: { _id: index, touched: true } },
          { o2: { _id: index } },
        );
        written += 1;
      }
    };
    const publisher = new MemoryPublisher();
    const controller = new AbortController();
    const result = await new InitialSync({ source, publisher, settings }).run(job, controller.signal);
    const last = (await source.latestOplogTs())!;
    await eventually(
      () => opTimeEquals(publisher.shippedTs() ?? result.startTs, last),
      5_000,
      'oplog shipped',
    );
    controller.abort();
    await result.tail.done;
    const oplog = publisher.oplogSlices();
    assert.deepEqual(oplog[0]!.meta.prevTs, result.startTs);
    for (let k = 1; k < oplog.length; k++) assert.deepEqual(oplog[k]!.meta.prevTs, oplog[k - 1]!.meta.lastTs);
    const updates = oplog.flatMap((s) => s.docs.map((d) => BSON.deserialize(d)['op']));
    assert.equal(written, 7);
    assert.deepEqual(updates, Array(7).fill('u'));
    assert.ok(!isAfter(result.endTs, last));
  });

  it('scans at most scanConcurrency namespaces at once', async () => {
    const source = new MemorySource();
    for (let k = 0; k < 6; k++)
      source.addCollection(
        `shop.c${k}`,
        Array.from({ length: 30 }, (_, n) => ({ _id: n })),
      );
    const publisher = new MemoryPublisher();
    const controller = new AbortController();
    const result = await new InitialSync({
      source,
      publisher,
      settings: { ...settings, scanConcurrency: 2 },
    }).run(job, controller.signal);
    controller.abort();
    await result.tail.done;
    assert.equal(source.maxScansRunning, 2);
    assert.equal(publisher.catalogs()[0]!.namespaces.length, 6);
  });

  it('reports progress at most once per interval', async () => {
    const source = new MemorySource();
    shop(source);
    let now = 0;
    const clock: Clock = { now: () => now };
    source.onScanDocument = () => {
      now += 7; // 7 ms per document: 790 documents take ~5.5 s of this clock
    };
    const publisher = new MemoryPublisher();
    const controller = new AbortController();
    const result = await new InitialSync({ source, publisher, settings, clock }).run(job, controller.signal);
    controller.abort();
    await result.tail.done;
    const progress = publisher.phases.slice(1, -1); // between TRANSFERRING and the final report
    assert.ok(progress.length >= 3 && progress.length <= 7, `${progress.length} progress reports`);
    const copied = progress.map((p) => p.progress.docsCopied);
    assert.deepEqual(
      [...copied].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      copied,
      'cumulative',
    );
    const orders = progress.at(-1)!.progress.namespaces.find((n) => n.namespace === 'shop.orders')!;
    assert.equal(orders.docsTotal, 700n);
  });

  it('fails the transfer when a scan fails, and publishes no catalog', async () => {
    const source = new MemorySource();
    shop(source);
    source.failNextScan('shop.users', 10, new Error('cursor killed'));
    const publisher = new MemoryPublisher();
    const controller = new AbortController();
    const started = await new InitialSync({ source, publisher, settings }).start(job, controller.signal);
    await assert.rejects(started.transfer, /cursor killed/);
    controller.abort();
    await started.tail.done;
    assert.equal(publisher.catalogs().length, 0);
  });
});
