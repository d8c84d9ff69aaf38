/**
 * Which entries a job keeps. Fixtures are in MongoDB's documented oplog format (FerretDB produces only i/u/d):
 * commands name their collection in `o`, transactions are `applyOps` on `admin.$cmd`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, Binary, Long, Timestamp, UUID, type Document } from 'mongodb';
import type { NamespaceFilters } from '@tidemark/domain';
import { readOplogEntryHeader } from './oplog-entry';
import { entryTargets, selectOplogEntry } from './oplog-selection';

let counter = 1;
function entry(fields: Record<string, unknown>): Buffer {
  return Buffer.from(BSON.serialize({ ts: new Timestamp({ t: 1_700_000_000, i: counter++ }), ...fields }));
}
function kept(raw: Buffer, filters: NamespaceFilters): Buffer | undefined {
  return selectOplogEntry(raw, readOplogEntryHeader(raw), filters);
}
function selected(raw: Buffer, filters: NamespaceFilters): boolean {
  return kept(raw, filters) !== undefined;
}
/** The operations of a kept `applyOps` entry, each as its own BSON bytes. */
function keptOps(raw: Buffer | undefined): Buffer[] {
  assert.ok(raw !== undefined, 'the entry is kept');
  const ops = (BSON.deserialize(raw, { promoteValues: false })['o'] as Document)['applyOps'] as Document[];
  return ops.map((op) => Buffer.from(BSON.serialize(op)));
}
const opBytes = (op: Document): Buffer => Buffer.from(BSON.serialize(op));
const session = {
  lsid: { id: new UUID('8cc3d151-ded4-16e4-90e3-7c6595aff182'), uid: new Binary(Buffer.alloc(32)) },
};
const emptyPrev = { prevOpTime: { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) } };
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

  it('keeps a single-entry transaction with only its selected operations, as the source wrote them', () => {
    const users = { op: 'i', ns: 'shop.users', ui: new UUID(), o: { _id: 1, n: new Long(5), d: -0.0 } };
    const orders = { op: 'u', ns: 'shop.orders', o: { $v: 2, diff: { u: { qty: 2 } } }, o2: { _id: 7 } };
    const txn = entry({
      lsid: session.lsid,
      txnNumber: Long.fromNumber(1),
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: [users, orders, { ...users, o: { _id: 2 } }] },
      ...emptyPrev,
    });
    assert.deepEqual(entryTargets(txn, readOplogEntryHeader(txn)), {
      kind: 'namespaces',
      namespaces: ['shop.users', 'shop.orders', 'shop.users'],
    });
    assert.deepEqual(keptOps(kept(txn, onlyOrders)), [opBytes(orders)]);
    const onlyUsers: NamespaceFilters = { include: ['shop.users'], exclude: [] };
    assert.deepEqual(keptOps(kept(txn, onlyUsers)), [opBytes(users), opBytes({ ...users, o: { _id: 2 } })]);
    // Everything selected: the source's bytes unchanged.
    assert.equal(kept(txn, everything), txn);
    // Nothing selected, and no chain to keep: dropped.
    assert.equal(kept(txn, { include: ['crm'], exclude: [] }), undefined);
  });

  it('rewrites only the applyOps array: every other field of the entry keeps its bytes and order', () => {
    const txn = entry({
      lsid: session.lsid,
      txnNumber: Long.fromNumber(4),
      op: 'c',
      ns: 'admin.$cmd',
      o: {
        applyOps: [
          { op: 'i', ns: 'crm.a', o: { _id: 1 } },
          { op: 'i', ns: 'shop.orders', o: { _id: 2 } },
        ],
        count: Long.fromNumber(9),
      },
      ...emptyPrev,
      wall: new Date(1_700_000_000_123),
    });
    const rewritten = kept(txn, onlyOrders);
    assert.ok(rewritten !== undefined);
    const before = BSON.deserialize(txn, { promoteValues: false });
    const after = BSON.deserialize(rewritten, { promoteValues: false });
    assert.deepEqual(Object.keys(after), Object.keys(before));
    assert.deepEqual(Object.keys(after['o'] as Document), ['applyOps', 'count']);
    for (const field of Object.keys(before).filter((name) => name !== 'o')) {
      assert.deepEqual(BSON.serialize({ f: after[field] }), BSON.serialize({ f: before[field] }), field);
    }
    // The rewritten entry is well framed: the driver encodes what it decodes to the same bytes.
    assert.deepEqual(Buffer.from(BSON.serialize(after)), rewritten);
  });

  it('keeps every entry of a transaction chain, emptied of the operations the job leaves out', () => {
    const part = (o: Document, prev: number): Buffer =>
      entry({
        ...session,
        txnNumber: Long.fromNumber(2),
        op: 'c',
        ns: 'admin.$cmd',
        o,
        prevOpTime:
          prev === 0
            ? emptyPrev.prevOpTime
            : { ts: new Timestamp({ t: 1_700_000_000, i: prev }), t: Long.fromNumber(1) },
      });
    const crmOnly = { op: 'i', ns: 'crm.contacts', o: { _id: 'c1' } };
    const crm: NamespaceFilters = { include: ['crm'], exclude: [] };
    // A partial part, a prepare entry, a last part continuing a chain: each kept with no operation left.
    assert.deepEqual(keptOps(kept(part({ applyOps: [crmOnly], partialTxn: true }, 0), onlyOrders)), []);
    assert.deepEqual(keptOps(kept(part({ applyOps: [crmOnly], prepare: true }, 0), onlyOrders)), []);
    assert.deepEqual(
      keptOps(kept(part({ applyOps: [crmOnly], count: Long.fromNumber(3) }, 7), onlyOrders)),
      [],
    );
    // A part with partialTxn copied to the entry's top level (some tools do): a chain part too.
    const topLevelPartial = entry({
      ...session,
      txnNumber: Long.fromNumber(2),
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: [crmOnly] },
      ...emptyPrev,
      partialTxn: true,
    });
    assert.deepEqual(keptOps(kept(topLevelPartial, onlyOrders)), []);
    // The job that backs the operations up gets the entry unchanged.
    const partial = part({ applyOps: [crmOnly], partialTxn: true }, 0);
    assert.equal(kept(partial, crm), partial);
  });

  it('keeps an applyOps outside a session only when one of its operations is selected, without the others', () => {
    const batch = entry({
      op: 'c',
      ns: 'admin.$cmd',
      o: {
        applyOps: [
          { op: 'i', ns: 'crm.a', o: { _id: 1 } },
          { op: 'i', ns: 'shop.orders', o: { _id: 2 } },
        ],
      },
    });
    assert.deepEqual(keptOps(kept(batch, onlyOrders)), [
      opBytes({ op: 'i', ns: 'shop.orders', o: { _id: 2 } }),
    ]);
    assert.equal(kept(batch, { include: ['other'], exclude: [] }), undefined);
    // Not a chain without a session, whatever its flags say.
    const flagged = entry({
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: [{ op: 'i', ns: 'crm.a', o: { _id: 1 } }], partialTxn: true },
    });
    assert.equal(kept(flagged, onlyOrders), undefined);
  });

  it('keeps a malformed applyOps (not an array) for every job, so the applier refuses it with the reason', () => {
    const malformed = entry({ op: 'c', ns: 'admin.$cmd', o: { applyOps: { op: 'i' } } });
    assert.equal(kept(malformed, onlyOrders), malformed);
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
