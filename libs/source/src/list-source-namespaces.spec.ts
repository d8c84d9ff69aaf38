/**
 * Which collections of a database the initial scan backs up, and which a job selects but Tidemark refuses (views
 * and time-series collections), on `listCollections` output in MongoDB's documented format
 * (`src/fixtures/list_collections_shop.json`; FerretDB 1.24 has neither views nor time-series collections).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EJSON, type Document } from 'bson';
import { UnsupportedNamespaceError } from '@tidemark/domain';
import { selectSourceCollections } from './list-source-namespaces';

const { collections } = EJSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'list_collections_shop.json'), 'utf8'),
  { relaxed: false },
) as { collections: Document[] };

const names = (docs: readonly Document[]): string[] => docs.map((d) => String(d['name']));

describe('selectSourceCollections', () => {
  it('backs up collections and names every selected view and time-series collection as unsupported', () => {
    const picked = selectSourceCollections('shop', collections, { include: ['shop'], exclude: [] });
    assert.deepEqual(names(picked.collections), ['orders']);
    assert.deepEqual(picked.unsupported, [
      { ns: 'shop.recent', type: 'view' },
      { ns: 'shop.weather', type: 'timeseries' },
    ]);
  });

  it('refuses nothing the job leaves out', () => {
    const excluded = selectSourceCollections('shop', collections, {
      include: ['shop'],
      exclude: ['shop.recent', 'shop.weather'],
    });
    assert.deepEqual(names(excluded.collections), ['orders']);
    assert.deepEqual(excluded.unsupported, []);
    const onlyOrders = selectSourceCollections('shop', collections, {
      include: ['shop.orders'],
      exclude: [],
    });
    assert.deepEqual(onlyOrders.unsupported, []);
  });

  it('the refusal says what is refused and what to do', () => {
    const { unsupported } = selectSourceCollections('shop', collections, { include: [], exclude: [] });
    const err = new UnsupportedNamespaceError({ namespaces: unsupported });
    assert.equal(err.retriable, false);
    assert.equal(
      err.message,
      'Tidemark does not back up views or time-series collections, and the job selects shop.recent (a view), ' +
        'shop.weather (a time-series collection); a job whose filters exclude them (exclude: ["shop.recent", ' +
        '"shop.weather"]) backs up the rest',
    );
  });
});
