import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Int32 } from 'bson';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture missing_document_update', () => {
  const { entries } = loadFixture('missing_document_update');

  it('records updates of missing documents instead of failing, and never creates them', async () => {
    const { target, results, applier } = await replay(entries);
    assert.deepEqual(outcomes(results), [
      'applied',
      'missing-document',
      'missing-document',
      'applied',
      'missing-document',
      'applied',
      'missing-document',
      'applied',
    ]);
    assertDocuments(target, 'shop.orders', '[{"_id": 1, "qty": 2}, {"_id": 4, "qty": 4}]');
    assert.deepEqual(
      applier.missingDocuments().map((doc) => [doc.sourceNs, doc.targetNs, doc.id, doc.ts]),
      [
        ['shop.orders', 'shop.orders', new Int32(2), { t: 1700000000, i: 2 }],
        ['shop.orders', 'shop.orders', new Int32(3), { t: 1700000000, i: 5 }],
      ],
      'one record per document (the latest update), and the deleted one is settled',
    );
    assert.equal(results[1]?.counts.missing, 1);
    assert.deepEqual(
      results[1]?.missing.map((doc) => doc.id),
      [new Int32(2)],
    );
  });

  it('records missing documents under both namespaces when namespaces are mapped, and drains them', async () => {
    const { applier } = await replay(entries, { mapNamespace: (ns) => `head_${ns}` });
    assert.deepEqual(
      applier.missingDocuments().map((doc) => [doc.sourceNs, doc.targetNs]),
      [
        ['shop.orders', 'head_shop.orders'],
        ['shop.orders', 'head_shop.orders'],
      ],
    );
    assert.equal(applier.takeMissingDocuments().length, 2);
    assert.deepEqual(applier.missingDocuments(), []);
  });

  it('records missing documents with the modifier strategy too', async () => {
    const { applier } = await replay(entries, { updateStrategy: 'modifier' });
    assert.deepEqual(
      applier.missingDocuments().map((doc) => doc.id),
      [new Int32(2), new Int32(3)],
    );
  });

  it('stops with a clear error when more missing documents are held than allowed', async () => {
    await assert.rejects(replay(entries, { maxMissingDocuments: 1 }), /takeMissingDocuments/);
  });
});
