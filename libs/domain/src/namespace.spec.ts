import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  namespaceSelected,
  parseNamespace,
  validateNamespaceFilters,
  type NamespaceFilters,
} from './namespace';

const ALL: NamespaceFilters = { include: [], exclude: [] };

describe('parseNamespace', () => {
  it('splits at the first dot only', () => {
    assert.deepEqual(parseNamespace('shop.orders.archive'), { db: 'shop', collection: 'orders.archive' });
    assert.deepEqual(parseNamespace('shop'), { db: 'shop', collection: undefined });
  });
});

describe('namespaceSelected', () => {
  it('selects every user namespace when include is empty', () => {
    assert.ok(namespaceSelected('shop.orders', ALL));
    assert.ok(namespaceSelected('shop.orders.archive', ALL));
    assert.ok(namespaceSelected('shop', ALL));
  });

  it('never selects admin, local or config, even when included', () => {
    const filters = { include: ['admin', 'local.oplog.rs', 'config.system.sessions', 'config'], exclude: [] };
    for (const ns of ['admin.users', 'local.oplog.rs', 'config.chunks', 'admin', 'local', 'config']) {
      assert.ok(!namespaceSelected(ns, ALL), ns);
      assert.ok(!namespaceSelected(ns, filters), ns);
    }
  });

  it('never selects system.* collections, but does select names merely containing "system"', () => {
    assert.ok(!namespaceSelected('shop.system.views', ALL));
    assert.ok(!namespaceSelected('shop.system.js', { include: ['shop.system.js'], exclude: [] }));
    assert.ok(namespaceSelected('shop.systems', ALL));
    assert.ok(namespaceSelected('system.orders', ALL), 'a database called "system" is an ordinary database');
  });

  it('with include, selects only the listed databases and collections', () => {
    const filters = { include: ['shop', 'crm.contacts'], exclude: [] };
    assert.ok(namespaceSelected('shop.orders', filters));
    assert.ok(namespaceSelected('crm.contacts', filters));
    assert.ok(!namespaceSelected('crm.leads', filters));
    assert.ok(!namespaceSelected('crm.contacts2', filters));
    assert.ok(!namespaceSelected('shopping.orders', filters), 'a database filter is not a prefix match');
  });

  it('lets exclude win over include, by database or by collection', () => {
    const filters = { include: ['shop'], exclude: ['shop.audit'] };
    assert.ok(namespaceSelected('shop.orders', filters));
    assert.ok(!namespaceSelected('shop.audit', filters));
    assert.ok(!namespaceSelected('logs.today', { include: [], exclude: ['logs'] }));
    assert.ok(namespaceSelected('logs2.today', { include: [], exclude: ['logs'] }));
  });

  it('decides database-level namespaces by database', () => {
    assert.ok(namespaceSelected('crm', { include: ['crm.contacts'], exclude: [] }));
    assert.ok(!namespaceSelected('shop', { include: ['crm.contacts'], exclude: [] }));
    assert.ok(!namespaceSelected('crm', { include: [], exclude: ['crm'] }));
    assert.ok(
      namespaceSelected('crm', { include: [], exclude: ['crm.contacts'] }),
      'one excluded collection',
    );
  });

  it('never selects malformed namespaces', () => {
    assert.ok(!namespaceSelected('', ALL));
    assert.ok(!namespaceSelected('.orders', ALL));
    assert.ok(!namespaceSelected('shop.', ALL));
  });
});

describe('validateNamespaceFilters', () => {
  it('accepts ordinary filters', () => {
    assert.deepEqual(
      validateNamespaceFilters({ include: ['shop', 'crm.contacts.v2'], exclude: ['shop.tmp'] }),
      [],
    );
  });

  it('explains each bad entry', () => {
    const problems = validateNamespaceFilters({
      include: ['', 'my db.x', 'shop.', 'shop.a$b', 'admin', 'shop.system.views'],
      exclude: ['.x'],
    });
    assert.deepEqual(problems, [
      'include entry "": database name is empty',
      'include entry "my db.x": database name contains a character MongoDB forbids',
      'include entry "shop.": collection name is empty',
      'include entry "shop.a$b": collection name contains "$" or a null character',
      'include entry "admin": database "admin" is never backed up',
      'include entry "shop.system.views": system collections are never backed up',
      'exclude entry ".x": database name is empty',
    ]);
  });
});
