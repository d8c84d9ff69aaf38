import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  namespaceMapping,
  parseRename,
  planNamespaces,
  RestoreOptionsError,
  SELECT_ALL,
} from './namespace-plan';
import type { RestoreSnapshot } from './ports';

const snapshot = (...names: string[]): RestoreSnapshot => ({
  snapshotId: 's1',
  jobId: 'j1',
  syncId: 'j1-s1',
  opTime: { t: 1, i: 1 },
  namespaces: names.map((namespace) => ({
    namespace,
    documentCount: 1,
    logicalBytes: 10,
    options: { uuid: { $uuid: '00000000-0000-4000-8000-000000000000' }, capped: true },
    indexes: [{ key: { _id: 1 }, name: '_id_' }],
  })),
});

describe('restore namespace plan', () => {
  it('restores everything by default, dropping the source uuid from the options', () => {
    const plan = planNamespaces(snapshot('shop.orders', 'shop.items'), SELECT_ALL);
    assert.deepEqual(
      plan.map((p) => [p.sourceNs, p.targetNs]),
      [
        ['shop.orders', 'shop.orders'],
        ['shop.items', 'shop.items'],
      ],
    );
    assert.deepEqual(plan[0]!.options, { capped: true });
  });

  it('includes, excludes and renames: a collection rename wins over its database rename', () => {
    const plan = planNamespaces(snapshot('shop.orders', 'shop.items', 'shop.log', 'crm.people'), {
      include: ['shop'],
      exclude: ['shop.log'],
      renames: [parseRename('shop=shop2'), parseRename('shop.items=archive.items_old')],
    });
    assert.deepEqual(
      plan.map((p) => [p.sourceNs, p.targetNs]),
      [
        ['shop.orders', 'shop2.orders'],
        ['shop.items', 'archive.items_old'],
      ],
    );
  });

  it('maps database-level entries too (dropDatabase during a replay)', () => {
    const map = namespaceMapping({ include: [], exclude: ['crm'], renames: [parseRename('shop=s2')] });
    assert.equal(map('shop'), 's2');
    assert.equal(map('shop.a.b'), 's2.a.b');
    assert.equal(map('crm'), null);
    assert.equal(map('crm.people'), null);
  });

  it('refuses malformed renames and filters with the reason', () => {
    assert.throws(() => parseRename('shop'), /expected FROM=TO/);
    assert.throws(() => parseRename('shop=x.y'), /both be a database or both be db.coll/);
    assert.throws(() => parseRename('shop.a=bad$db.c'), RestoreOptionsError);
    assert.throws(() => parseRename('=x'), /database name is empty/);
    assert.throws(
      () => planNamespaces(snapshot('a.b'), { include: ['a/b'], exclude: [], renames: [] }),
      /forbids/,
    );
  });

  it('refuses an include or rename naming nothing in the snapshot, and two namespaces landing in one', () => {
    assert.throws(
      () => planNamespaces(snapshot('shop.orders'), { include: ['shop.order'], exclude: [], renames: [] }),
      /--include shop.order: snapshot s1 has no such namespace/,
    );
    assert.throws(
      () =>
        planNamespaces(snapshot('shop.orders'), {
          include: [],
          exclude: [],
          renames: [parseRename('shp=x')],
        }),
      /--rename shp: snapshot s1 has no such namespace/,
    );
    assert.throws(
      () =>
        planNamespaces(snapshot('a.x', 'b.x'), {
          include: [],
          exclude: [],
          renames: [parseRename('a=c'), parseRename('b=c')],
        }),
      /a.x and b.x would both be restored into c.x/,
    );
    assert.throws(
      () =>
        planNamespaces(snapshot('a.x'), {
          include: [],
          exclude: [],
          renames: [parseRename('a=c'), parseRename('a=d')],
        }),
      /--rename a is given more than once/,
    );
  });
});
