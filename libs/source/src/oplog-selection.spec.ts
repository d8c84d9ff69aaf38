/**
 * Which entries a job keeps. Fixtures are in MongoDB's documented oplog format (FerretDB produces only i/u/d):
 * commands name their collection in `o`, transactions are `applyOps` on `admin.$cmd`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, Timestamp } from 'mongodb';
import type { NamespaceFilters } from '@tidemark/domain';
import { readOplogEntryHeader } from './oplog-entry';
import { entryTargets, oplogEntrySelected } from './oplog-selection';

let counter = 1;
function entry(fields: Record<string, unknown>): Buffer {
  return Buffer.from(BSON.serialize({ ts: new Timestamp({ t: 1_700_000_000, i: counter++ }), ...fields }));
}
function selected(raw: Buffer, filters: NamespaceFilters): boolean {
  return oplogEntrySelected(raw, readOplogEntryHeader(raw), filters);
}
const onlyOrders: NamespaceFilters = { include: ['shop.orders'], exclude: [] };
const everything: NamespaceFilters = { include: [], exclude: [] };

describe('oplogEntrySelected', () => {
  it('keeps CRUD entries of selected namespaces and drops the others', () => {
    assert.equal(selected(entry({ op: 'i', ns: 'shop.orders', o: { _id: 1 } }), onlyOrders), true);
    assert.equal(
      selected(entry({ op: 'u', ns: 'shop.orders', o: { $v: 2, diff: {} }, o2: { _id: 1 } }), onlyOrders),
      true,
    );
    assert.equal(selected(entry({ op: 'd', ns: 'shop.users', o: { _id: 1 } }), onlyOrders), false);
    assert.equal(selected(entry({ op: 'i', ns: 'admin.system.users', o: { _id: 1 } }), everything), false);
    assert.equal(
      selected(entry({ op: 'i', ns: 'config.system.sessions', o: { _id: 1 } }), everything),
      false,
    );
  });

  it('drops no-ops without a namespace (MongoDB writes one every 10 s)', () => {
    assert.equal(selected(entry({ op: 'n', ns: '', o: { msg: 'periodic noop' } }), everything), false);
  });

  it('keeps a command when the collection it names is selected', () => {
    const create = entry({ op: 'c', ns: 'shop.$cmd', o: { create: 'orders', idIndex: { key: { _id: 1 } } } });
    assert.equal(selected(create, onlyOrders), true);
    const dropOther = entry({ op: 'c', ns: 'shop.$cmd', o: { drop: 'users' } });
    assert.equal(selected(dropOther, onlyOrders), false);
    const indexes = entry({
      op: 'c',
      ns: 'shop.$cmd',
      o: { createIndexes: 'orders', v: 2, key: { a: 1 }, name: 'a_1' },
    });
    assert.equal(selected(indexes, onlyOrders), true);
  });

  it('keeps a rename when either side is selected', () => {
    const into = entry({ op: 'c', ns: 'shop.$cmd', o: { renameCollection: 'shop.tmp', to: 'shop.orders' } });
    const away = entry({ op: 'c', ns: 'shop.$cmd', o: { renameCollection: 'shop.orders', to: 'shop.old' } });
    const elsewhere = entry({ op: 'c', ns: 'shop.$cmd', o: { renameCollection: 'shop.a', to: 'shop.b' } });
    assert.equal(selected(into, onlyOrders), true);
    assert.equal(selected(away, onlyOrders), true);
    assert.equal(selected(elsewhere, onlyOrders), false);
  });

  it('keeps dropDatabase of a database the job backs up from', () => {
    const drop = entry({ op: 'c', ns: 'shop.$cmd', o: { dropDatabase: 1 } });
    assert.equal(selected(drop, onlyOrders), true);
    assert.equal(selected(drop, { include: ['crm'], exclude: [] }), false);
    assert.equal(selected(drop, { include: [], exclude: ['shop'] }), false);
  });

  it('keeps a transaction (applyOps on admin.$cmd) when any of its operations is selected', () => {
    const txn = entry({
      op: 'c',
      ns: 'admin.$cmd',
      o: {
        applyOps: [
          { op: 'i', ns: 'shop.users', o: { _id: 1 } },
          { op: 'u', ns: 'shop.orders', o: { $v: 2, diff: { u: { qty: 2 } } }, o2: { _id: 7 } },
        ],
      },
      lsid: { id: 'x' },
      txnNumber: 1,
    });
    assert.deepEqual(entryTargets(txn, readOplogEntryHeader(txn)), {
      kind: 'namespaces',
      namespaces: ['shop.users', 'shop.orders'],
    });
    assert.equal(selected(txn, onlyOrders), true);
    assert.equal(selected(txn, { include: ['crm'], exclude: [] }), false);
  });

  it('looks into commands nested in a transaction', () => {
    const txn = entry({
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: [{ op: 'c', ns: 'shop.$cmd', o: { create: 'orders' } }] },
    });
    assert.equal(selected(txn, onlyOrders), true);
  });

  it('keeps commitTransaction for every job: the applier needs it to commit what it holds', () => {
    const commit = entry({
      op: 'c',
      ns: 'admin.$cmd',
      o: { commitTransaction: 1, commitTimestamp: new Timestamp({ t: 1, i: 1 }) },
    });
    assert.equal(selected(commit, { include: ['crm'], exclude: [] }), true);
  });

  it('keeps an unknown command of a selected database, so the applier stops on it instead of a silent skip', () => {
    const unknown = entry({ op: 'c', ns: 'shop.$cmd', o: { someFutureCommand: 'orders' } });
    assert.equal(selected(unknown, onlyOrders), true);
    assert.equal(selected(unknown, { include: ['crm'], exclude: [] }), false);
  });
});
