/**
 * Views and time-series collections through the selection AND the applier, as the head applies them
 * (`oplog-selection-txn.spec.ts` explains the set-up): Tidemark backs up neither, so a job that selects one must
 * stop with the reason (`UnsupportedNamespaceError`), never lose it silently; a job that excludes it goes on.
 * Fixtures in MongoDB's documented oplog format: `src/fixtures/view_created.json`, `timeseries_created.json`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BSON, EJSON, type Document } from 'bson';
import { UnsupportedNamespaceError, type NamespaceFilters } from '@tidemark/domain';
import { MemoryApplyTarget, OplogApplier, OplogApplyError } from '@tidemark/oplog-apply';
import { readOplogEntryHeader } from './oplog-entry';
import { selectOplogEntry } from './oplog-selection';

function entriesOf(name: string): Document[] {
  const text = readFileSync(join(__dirname, 'fixtures', `${name}.json`), 'utf8');
  return (EJSON.parse(text, { relaxed: false }) as { entries: Document[] }).entries;
}

/** Selects the fixture's entries for `filters` and applies what is kept, mapping every namespace (as the head). */
async function throughSelection(name: string, filters: NamespaceFilters): Promise<MemoryApplyTarget> {
  const target = new MemoryApplyTarget();
  const applier = new OplogApplier(target);
  for (const entry of entriesOf(name)) {
    const raw = Buffer.from(BSON.serialize(entry));
    const kept = selectOplogEntry(raw, readOplogEntryHeader(raw), filters);
    if (kept !== undefined) await applier.applyEntry(BSON.deserialize(kept, { promoteValues: false }));
  }
  return target;
}

function refused(ns: string, type: 'view' | 'timeseries'): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof OplogApplyError, String(err));
    assert.ok(err.cause instanceof UnsupportedNamespaceError);
    assert.deepEqual(err.cause.namespaces, [{ ns, type }]);
    assert.match(err.message, new RegExp(`exclude: \\["${ns}"\\]`));
    return true;
  };
}

describe('views and time-series collections (selection, then applier)', () => {
  const shop: NamespaceFilters = { include: ['shop'], exclude: [] };

  it('view_created: a job that backs up the view stops on its definition, naming it', async () => {
    await assert.rejects(throughSelection('view_created', shop), refused('shop.recent', 'view'));
    await assert.rejects(
      throughSelection('view_created', { include: ['shop.recent'], exclude: [] }),
      refused('shop.recent', 'view'),
    );
  });

  it('view_created: a job that excludes the view, or backs up only shop.orders, goes on without it', async () => {
    for (const filters of [
      { include: ['shop'], exclude: ['shop.recent'] },
      { include: ['shop.orders'], exclude: [] },
    ]) {
      const target = await throughSelection('view_created', filters);
      assert.deepEqual(target.namespaces(), ['shop.orders']);
      assert.equal(target.documents('shop.orders').length, 2);
    }
  });

  it('timeseries_created: a job that backs up the time-series collection stops on its creation, naming it', async () => {
    await assert.rejects(throughSelection('timeseries_created', shop), refused('shop.weather', 'timeseries'));
  });

  it('timeseries_created: a job that excludes it goes on without it (and without its buckets)', async () => {
    const target = await throughSelection('timeseries_created', {
      include: ['shop'],
      exclude: ['shop.weather'],
    });
    assert.deepEqual(target.namespaces(), ['shop.orders']);
    assert.equal(target.documents('shop.orders').length, 2);
  });
});
