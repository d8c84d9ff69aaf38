import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { DEFAULT_AGENT_SETTINGS, type AgentSettings } from './agent-settings';
import { MissingFetch, MissingFetchIncompleteError, type FetchMissingBatch } from './missing-fetch';
import { MemoryPublisher } from './testing/memory-publisher';
import { MemorySource } from './testing/memory-source';

const settings: AgentSettings = { ...DEFAULT_AGENT_SETTINGS, sliceTargetBytes: 2048, codec: 'none' };
const base = { jobId: 'job00004', syncId: 'job00004-s1' };

function source(): MemorySource {
  const s = new MemorySource();
  s.append('n', '', {});
  s.addCollection(
    'shop.orders',
    Array.from({ length: 200 }, (_, k) => ({ _id: k, pad: 'y'.repeat(40) })),
  );
  s.addCollection('shop.users', [{ _id: 'a' }, { _id: 'b' }]);
  return s;
}

const batch = (b: number, batches: number, ns: string, ids: unknown[]): FetchMissingBatch => ({
  ...base,
  batch: b,
  batches,
  ns,
  ids,
});

describe('MissingFetch', () => {
  it('slices each batch under ids with its batch number, and lists all batches in the catalog after the last', async () => {
    const src = source();
    const publisher = new MemoryPublisher();
    const fetch = new MissingFetch({ publisher, settings });
    assert.deepEqual(
      await fetch.run(
        batch(
          1,
          3,
          'shop.orders',
          Array.from({ length: 100 }, (_, k) => k),
        ),
        src,
      ),
      {
        catalogPublished: false,
      },
    );
    assert.deepEqual(await fetch.run(batch(2, 3, 'shop.users', ['a', 'zz']), src), {
      catalogPublished: false,
    });
    assert.deepEqual(await fetch.run(batch(3, 3, 'shop.orders', [150, 151, 999]), src), {
      catalogPublished: true,
    });

    const initial = publisher.slices.filter((s) => s.meta.kind === 'initial');
    assert.ok(initial.every((s) => s.meta.kind === 'initial' && s.meta.origin === 'missing'));
    const ids = initial.map((s) => s.meta.sliceId);
    assert.ok(
      ids.filter((id) => id.startsWith(`${base.syncId}:i:shop.orders:m1.`)).length > 1,
      'batch 1 spans slices',
    );
    assert.ok(ids.includes(`${base.syncId}:i:shop.users:m2.0`));
    assert.ok(ids.includes(`${base.syncId}:i:shop.orders:m3.0`));
    assert.equal(
      new Set(initial.map((s) => `${s.meta.kind === 'initial' && s.meta.namespace}/${s.meta.sequence}`)).size,
      initial.length,
    );
    const fetched = initial.flatMap((s) => s.docs.map((d) => BSON.deserialize(d)['_id']));
    assert.equal(fetched.length, 103);

    const [catalog] = publisher.catalogs();
    assert.equal(
      publisher.log.at(-1)!.type === 'slice' && publisher.slices.at(-1)!.meta.sliceId,
      `${base.syncId}:c:missing`,
    );
    assert.equal(catalog!.origin, 'missing');
    const orders = initial.filter((s) => s.meta.kind === 'initial' && s.meta.namespace === 'shop.orders');
    assert.deepEqual(catalog!.namespaces, [
      { ns: 'shop.orders', sliceCount: orders.length, docCount: 102 },
      { ns: 'shop.users', sliceCount: 1, docCount: 1 },
    ]);
  });

  it('publishes an empty catalog at once when no document is missing', async () => {
    const publisher = new MemoryPublisher();
    const result = await new MissingFetch({ publisher, settings }).run(
      { ...base, batch: 0, batches: 0, ns: undefined, ids: [] },
      source(),
    );
    assert.deepEqual(result, { catalogPublished: true });
    assert.equal(publisher.slices.length, 1);
    assert.deepEqual(publisher.catalogs()[0]!.namespaces, []);
  });

  it('counts a redelivered batch once (same slice ids, counts replaced)', async () => {
    const src = source();
    const publisher = new MemoryPublisher();
    const fetch = new MissingFetch({ publisher, settings });
    await fetch.run(batch(1, 2, 'shop.users', ['a', 'b']), src);
    await fetch.run(batch(1, 2, 'shop.users', ['a', 'b']), src);
    await fetch.run(batch(2, 2, 'shop.users', ['a']), src);
    assert.deepEqual(publisher.catalogs()[0]!.namespaces, [{ ns: 'shop.users', sliceCount: 2, docCount: 3 }]);
    const ids = publisher.slices.filter((s) => s.meta.kind === 'initial').map((s) => s.meta.sliceId);
    assert.deepEqual(ids, [
      `${base.syncId}:i:shop.users:m1.0`,
      `${base.syncId}:i:shop.users:m1.0`,
      `${base.syncId}:i:shop.users:m2.0`,
    ]);
  });

  it('refuses to publish a catalog when an earlier batch was fetched by another process', async () => {
    const publisher = new MemoryPublisher();
    const restarted = new MissingFetch({ publisher, settings });
    await assert.rejects(restarted.run(batch(2, 2, 'shop.users', ['a']), source()), (err: unknown) => {
      assert.ok(err instanceof MissingFetchIncompleteError);
      assert.deepEqual(err.missingBatches, [1]);
      assert.equal(err.retriable, false);
      return true;
    });
    assert.equal(publisher.catalogs().length, 0);
  });

  it('rejects impossible batches', async () => {
    const fetch = new MissingFetch({ publisher: new MemoryPublisher(), settings });
    await assert.rejects(fetch.run(batch(3, 2, 'shop.users', ['a']), source()), RangeError);
    await assert.rejects(fetch.run(batch(1, 2, '', ['a']), source()), RangeError);
  });
});
