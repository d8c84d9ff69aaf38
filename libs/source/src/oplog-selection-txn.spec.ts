/**
 * Transactions across the job's namespace filters, driven through the selection AND the applier: each fixture
 * (`src/fixtures/txn_filter_<case>.json`, MongoDB's documented oplog format) is encoded as the source's raw
 * entries, filtered by `selectOplogEntry` as the oplog tail does, opened as a slice's entries are
 * (`openSliceEntries`, byte-for-byte check included) and applied by an `OplogApplier` that maps every namespace it
 * is given, as the head's does (`headMapping`): the selection is the only thing that leaves namespaces out. A
 * broken transaction chain (`prevOpTime`) makes the applier throw; a transaction applied in part or with the
 * operations of another namespace makes the head differ from the reference: the whole oplog applied with the
 * job's filters as the applier's namespace mapping.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BSON, EJSON, type Document } from 'bson';
import { MIN_OP_TIME, namespaceSelected, type NamespaceFilters, type OplogSliceMeta } from '@tidemark/domain';
import { openSliceEntries } from '@tidemark/head-database';
import { MemoryApplyTarget, OplogApplier } from '@tidemark/oplog-apply';
import { readOplogEntryHeader } from './oplog-entry';
import { selectOplogEntry } from './oplog-selection';

interface TxnFixture {
  readonly description: string;
  readonly filters: NamespaceFilters;
  readonly entries: readonly Document[];
}

function loadFixture(name: string): TxnFixture {
  const text = readFileSync(join(__dirname, 'fixtures', `${name}.json`), 'utf8');
  return EJSON.parse(text, { relaxed: false }) as TxnFixture;
}

/** Canonical Extended JSON: equal strings mean equal values, BSON types and field order. */
const canonical = (value: unknown): string => EJSON.stringify(value, { relaxed: false });

/** Every namespace of the target with its documents (in any order) and indexes. */
function stateOf(target: MemoryApplyTarget): string {
  const state: Document = {};
  for (const ns of target.namespaces().sort()) {
    state[ns] = {
      documents: target.documents(ns).map(canonical).sort(),
      indexes: target.indexes(ns).map(canonical).sort(),
    };
  }
  return canonical(state);
}

/** The head's path: source bytes -> selection -> slice entries -> applier mapping every namespace. */
async function throughSelection(fixture: TxnFixture): Promise<{
  target: MemoryApplyTarget;
  applier: OplogApplier;
  kept: Buffer[];
}> {
  const kept: Buffer[] = [];
  for (const entry of fixture.entries) {
    const raw = Buffer.from(BSON.serialize(entry));
    const selected = selectOplogEntry(raw, readOplogEntryHeader(raw), fixture.filters);
    if (selected !== undefined) kept.push(selected);
  }
  const last = fixture.entries.at(-1)?.['ts'] as { high: number; low: number };
  const meta: OplogSliceMeta = {
    kind: 'oplog',
    jobId: 'job-txn',
    syncId: 'sync-1',
    sliceId: 'job-txn-oplog-0',
    sequence: 0,
    docCount: kept.length,
    rawBytes: 0,
    compressedBytes: 0,
    codec: 'none',
    checksum: '0'.repeat(64),
    prevTs: MIN_OP_TIME,
    lastTs: { t: last.high, i: last.low },
  };
  const target = new MemoryApplyTarget();
  const applier = new OplogApplier(target);
  for (const { doc } of openSliceEntries(kept, meta, { verifyRoundTrip: true })) {
    await applier.applyEntry(doc);
  }
  return { target, applier, kept };
}

/** What the head must hold: every entry applied, the job's filters as the applier's namespace mapping. */
async function reference(fixture: TxnFixture): Promise<MemoryApplyTarget> {
  const target = new MemoryApplyTarget();
  const applier = new OplogApplier(target, {
    mapNamespace: (ns) => (namespaceSelected(ns, fixture.filters) ? ns : null),
  });
  for (const entry of fixture.entries) await applier.applyEntry(entry);
  assert.deepEqual(applier.openTransactions(), []);
  return target;
}

/** Runs a fixture both ways and checks the head equals the reference and holds `expectedOrders`. */
async function assertFiltered(name: string, expectedOrders: string): Promise<Buffer[]> {
  const fixture = loadFixture(name);
  const { target, applier, kept } = await throughSelection(fixture);
  assert.deepEqual(applier.openTransactions(), [], 'no transaction is left open');
  assert.equal(stateOf(target), stateOf(await reference(fixture)));
  assert.deepEqual(target.namespaces(), ['shop.orders'], 'nothing of crm reaches the head');
  assert.equal(
    canonical(target.documents('shop.orders')),
    canonical(EJSON.parse(`{"docs": ${expectedOrders}}`, { relaxed: false })['docs']),
  );
  return kept;
}

const opsOf = (raw: Buffer): Document[] =>
  (BSON.deserialize(raw, { promoteValues: false })['o'] as Document)['applyOps'] as Document[];

describe('transactions across namespace filters (selection, then applier)', () => {
  it('txn_filter_all_parts_excluded: transactions touching none of the job namespaces do not stop it', async () => {
    const kept = await assertFiltered(
      'txn_filter_all_parts_excluded',
      '[{"_id": 1, "total": 10}, {"_id": 2, "total": 20}, {"_id": 3, "total": 30}, {"_id": 4, "total": 40}]',
    );
    // The chains are kept, emptied of crm's operations: 4 shop writes, 3 + 3 transaction entries.
    assert.equal(kept.length, 10);
  });

  it('txn_filter_first_part_excluded: the chain stays whole when its first part touches only excluded namespaces', async () => {
    const kept = await assertFiltered(
      'txn_filter_first_part_excluded',
      '[{"_id": 1, "total": 11}, {"_id": 2, "total": 20}, {"_id": 3, "total": 30}]',
    );
    assert.deepEqual(
      kept.map((raw) => opsOf(raw)?.length ?? 'crud'),
      ['crud', 0, 1, 1, 'crud'],
    );
  });

  it('txn_filter_last_part_excluded: the part that commits is kept when it touches only excluded namespaces', async () => {
    await assertFiltered(
      'txn_filter_last_part_excluded',
      '[{"_id": 1, "total": 10}, {"_id": 2, "total": 20}, {"_id": 3, "total": 30}]',
    );
  });

  it('txn_filter_prepared_committed: a prepared transaction commits only its operations of the job', async () => {
    await assertFiltered(
      'txn_filter_prepared_committed',
      '[{"_id": 1, "total": 12}, {"_id": 3, "total": 30}, {"_id": 2, "total": 20}]',
    );
  });

  it('txn_filter_prepared_aborted: aborted prepared transactions apply nothing and do not stop the job', async () => {
    await assertFiltered('txn_filter_prepared_aborted', '[{"_id": 1, "total": 10}, {"_id": 2, "total": 20}]');
  });
});
