import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'bson';
import { SliceValidationError, UnknownFormatVersionError } from '@tidemark/domain';
import { CATALOG_FORMAT, decodeCatalog, encodeCatalog, type Catalog } from './catalog';

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

  it('carries its format version in the sync document; a catalog without one is version 1', () => {
    const [head, ...namespaces] = encodeCatalog(catalog);
    const sync = BSON.deserialize(head!);
    assert.equal(sync['v'], CATALOG_FORMAT.current);
    assert.equal(CATALOG_FORMAT.current, 1);
    delete sync['v'];
    assert.deepEqual(decodeCatalog([Buffer.from(BSON.serialize(sync)), ...namespaces]), catalog);
  });

  it('refuses a catalog of a version it does not read, naming the slice', () => {
    const [head, ...namespaces] = encodeCatalog(catalog);
    const future = Buffer.from(BSON.serialize({ ...BSON.deserialize(head!), v: 2, startTs: 'moved' }));
    assert.throws(
      () => decodeCatalog([future, ...namespaces], 'j1-s1:c:scan'),
      (err: unknown) =>
        err instanceof UnknownFormatVersionError &&
        err.recordKind === 'catalog slice' &&
        err.found === 2 &&
        err.where === 'slice j1-s1:c:scan' &&
        !err.retriable,
    );
  });
});
