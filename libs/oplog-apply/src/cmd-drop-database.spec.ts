import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocuments, loadFixture, outcomes, replay } from './spec-support';

describe('fixture cmd_drop_database', () => {
  it('drops the database and nothing else', async () => {
    const { target, results } = await replay(loadFixture('cmd_drop_database').entries);
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    assert.deepEqual(target.namespaces(), ['crmx.other']);
    assertDocuments(target, 'crmx.other', '[{"_id": 1}]');
  });

  it('maps the database through mapNamespace (called with the database name alone)', async () => {
    const seen: string[] = [];
    const mapNamespace = (ns: string): string => {
      seen.push(ns);
      return `h_${ns}`;
    };
    const { target } = await replay(loadFixture('cmd_drop_database').entries, { mapNamespace });
    assert.deepEqual(target.namespaces(), ['h_crmx.other']);
    assert.ok(seen.includes('crm'), 'dropDatabase maps "crm"');
  });
});
