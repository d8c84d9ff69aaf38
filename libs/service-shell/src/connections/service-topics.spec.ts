import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTopics } from '@tidemark/bus';
import { SERVICE_NAMES } from '../service-name';
import { topicsUsedBy } from './service-topics';

describe('topicsUsedBy', () => {
  const topics = resolveTopics({ prefix: 'p', env: {} });
  const used = (name: (typeof SERVICE_NAMES)[number]) =>
    topicsUsedBy(topics, name)
      .map((t) => t.base)
      .sort();

  it('gives every service at least one topic, all under the prefix', () => {
    for (const name of SERVICE_NAMES) {
      const list = topicsUsedBy(topics, name);
      assert.ok(list.length > 0, name);
      assert.ok(list.every((t) => t.name.startsWith('p.tidemark.')));
    }
  });

  it('follows the producers and consumers declared in the bus', () => {
    assert.ok(used('agent').includes('tidemark.slices.oplog'));
    assert.ok(used('agent').includes('tidemark.slices.initial'));
    assert.ok(used('slice-ingest').includes('tidemark.slices.oplog.dlq'));
    assert.ok(used('oplog-applier').includes('tidemark.slices.stored'));
    assert.ok(used('head-builder').includes('tidemark.slices.stored'));
    assert.ok(used('snapshotter').includes('tidemark.snapshots'));
    assert.ok(used('job-state').includes('tidemark.phases'));
  });
});
