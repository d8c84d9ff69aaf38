/**
 * The index comparison of `compareHeads`: every option the server lists is compared (index specs as MongoDB's
 * `listIndexes` returns them), except the fields `INDEX_FIELDS_NOT_COMPARED` names and why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Double, Int32, Long, type Document } from 'mongodb';
import { INDEX_FIELDS_NOT_COMPARED, indexDifferences, indexDigest } from './compare';

const differences = (source: Document[], head: Document[]): string[] =>
  indexDifferences(source.map(indexDigest), head.map(indexDigest));

const base = { v: 2, key: { at: 1 }, name: 'at_1' };

describe('index comparison', () => {
  const options: Array<[string, Document, Document]> = [
    ['unique', { unique: true }, {}],
    ['sparse', { sparse: true }, {}],
    [
      'partial filter',
      { partialFilterExpression: { n: { $gt: 5 } } },
      { partialFilterExpression: { n: { $gt: 6 } } },
    ],
    ['TTL', { expireAfterSeconds: 3600 }, { expireAfterSeconds: 60 }],
    ['TTL lost', { expireAfterSeconds: 3600 }, {}],
    ['collation', { collation: { locale: 'fr', strength: 2 } }, { collation: { locale: 'fr', strength: 1 } }],
    ['hidden', { hidden: true }, {}],
    ['wildcard projection', { wildcardProjection: { a: 1 } }, { wildcardProjection: { a: 0 } }],
    ['text weights (an option not named here)', { weights: { title: 10 } }, { weights: { title: 1 } }],
    [
      'storage engine options',
      { storageEngine: { wiredTiger: { configString: 'block_compressor=zstd' } } },
      {},
    ],
  ];
  for (const [what, source, head] of options) {
    it(`reports a differing ${what}`, () => {
      const problems = differences([{ ...base, ...source }], [{ ...base, ...head }]);
      assert.equal(problems.length, 1, `${what}: ${problems.join('; ')}`);
      assert.match(problems[0] ?? '', /^index at_1 differs: source .* \/ head /);
    });
  }

  it('reports a differing key, compound key order included', () => {
    assert.equal(differences([{ ...base, key: { at: -1 } }], [base]).length, 1);
    const ab = { ...base, key: { a: 1, b: 1 }, name: 'ab' };
    assert.equal(differences([ab], [{ ...ab, key: { b: 1, a: 1 } }]).length, 1);
  });

  it('reports an index missing in the head, and one in the head only', () => {
    assert.deepEqual(differences([base, { ...base, name: 'other' }], [base]), [
      'index other is missing in the head (source {"key":{"at":1},"name":"other"})',
    ]);
    assert.deepEqual(differences([], [base]), [
      'index at_1 is in the head only ({"key":{"at":1},"name":"at_1"})',
    ]);
  });

  it(`leaves out ${Object.keys(INDEX_FIELDS_NOT_COMPARED).join(', ')}, the order of the options and numeric types`, () => {
    const source = {
      v: 1,
      key: { at: new Double(1) },
      name: 'at_1',
      ns: 'shop.orders',
      background: true,
      expireAfterSeconds: new Long(60),
    };
    const head = {
      expireAfterSeconds: new Int32(60),
      name: 'at_1',
      key: { at: 1 },
      v: 2,
      ns: 'th_job_1_shop.orders',
    };
    assert.deepEqual(differences([source], [head]), []);
  });
});
