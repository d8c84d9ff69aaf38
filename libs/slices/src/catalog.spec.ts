import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { SliceValidationError } from '@tidemark/domain';
import { decodeCatalog, encodeCatalog, type Catalog } from './catalog';

describe('catalog documents', () => {
  const catalog: Catalog = {
    origin: 'scan',
    startTs: { t: 2 ** 31 + 1, i: 3 },
    endTs: { t: 2 ** 31 + 9, i: 1 },
    serverVersion: '7.0.42',
    featureCompatibilityVersion: '7.0',
    namespaces: [
      {
        ns: 'shop.orders',
        sliceCount: 3,
        docCount: 1200,
        options: { capped: false },
        indexes: [{ key: { _id: 1 }, name: '_id_', v: 2 }],
      },
      { ns: 'shop.empty', sliceCount: 1, docCount: 0 },
    ],
  };

  it('round-trips', () => {
    assert.deepEqual(decodeCatalog(encodeCatalog(catalog)), catalog);
  });

  it('rejects a catalog without its sync header, with duplicates or with bad counts', () => {
    const [, ...namespaces] = encodeCatalog(catalog);
    assert.throws(() => decodeCatalog(namespaces, 's'), SliceValidationError);
    const docs = encodeCatalog(catalog);
    assert.throws(() => decodeCatalog([...docs, docs[1]!]), /listed twice/);
    const bad = Buffer.from(BSON.serialize({ type: 'namespace', ns: 'a.b', sliceCount: -1, docCount: 0 }));
    assert.throws(() => decodeCatalog([docs[0]!, bad]), /sliceCount must be a count/);
  });
});
