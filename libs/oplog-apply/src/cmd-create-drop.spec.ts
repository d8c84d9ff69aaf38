import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonical, ejson, loadFixture, outcomes, replay } from './spec-support';

describe('fixture cmd_create_drop', () => {
  it('creates collections with their options (idIndex stripped) and drops one', async () => {
    const { target, results } = await replay(loadFixture('cmd_create_drop').entries);
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied']);
    assert.deepEqual(target.namespaces(), ['shop.clicks', 'shop.events']);
    assert.equal(
      canonical(target.collectionOptions('shop.events')),
      canonical(ejson('{"capped": true, "size": 1048576}')),
    );
    assert.equal(
      canonical(target.collectionOptions('shop.clicks')),
      canonical(ejson('{"collation": {"locale": "fr", "strength": 2}}')),
    );
    assert.deepEqual(target.documents('shop.logs'), []);
    assert.equal(results[3]?.command, 'drop');
    assert.equal(results[3]?.counts.commands, 1);
  });

  it('keeps the options a collection was created with while it exists', async () => {
    const { target } = await replay(loadFixture('cmd_create_drop').entries.slice(0, 2));
    assert.equal(
      canonical(target.collectionOptions('shop.logs')),
      canonical(
        ejson(
          '{"validator": {"$jsonSchema": {"required": ["level"]}}, "validationLevel": "strict", "validationAction": "error"}',
        ),
      ),
    );
    assert.deepEqual(
      target.indexes('shop.logs').map((spec) => spec.name),
      ['_id_'],
    );
  });
});
