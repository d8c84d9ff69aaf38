import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OplogApplyError, UnreplayableEntryError } from './errors';
import { assertDocuments, assertIndexes, loadFixture, outcomes, replay } from './spec-support';

describe('fixture cmd_rename', () => {
  const { entries } = loadFixture('cmd_rename');

  it('renames within a database, onto an existing collection with dropTarget, and across databases', async () => {
    const { target, results } = await replay(entries);
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    assert.deepEqual(target.namespaces(), ['archive.b']);
    assertDocuments(target, 'archive.b', '[{"_id": 1, "x": "one"}]');
    assertIndexes(
      target,
      'archive.b',
      '[{"v": 2, "key": {"_id": 1}, "name": "_id_"}, {"v": 2, "key": {"x": 1}, "name": "x_1"}]',
    );
  });

  it('maps both sides of a rename, and turns a rename out of the backed-up namespaces into a drop', async () => {
    const mapNamespace = (ns: string): string | null => (ns.startsWith('archive') ? null : `head_${ns}`);
    const { target, results } = await replay(entries, { mapNamespace });
    assert.deepEqual(outcomes(results), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    assert.deepEqual(target.namespaces(), []);
    const upToDropTarget = await replay(entries.slice(0, 5), { mapNamespace });
    assert.deepEqual(upToDropTarget.target.namespaces(), ['head_shop.b']);
    assertDocuments(upToDropTarget.target, 'head_shop.b', '[{"_id": 1, "x": "one"}]');
  });

  it('refuses a rename from a namespace the job does not back up into one it does', async () => {
    const mapNamespace = (ns: string): string | null => (ns === 'shop.b' ? null : ns);
    await assert.rejects(replay(entries, { mapNamespace }), (err: unknown) => {
      assert.ok(err instanceof OplogApplyError);
      assert.ok(err.cause instanceof UnreplayableEntryError);
      assert.equal(err.retriable, false);
      assert.deepEqual(err.context, {
        ts: { t: 1700000000, i: 6 },
        op: 'c',
        ns: 'admin.$cmd',
        command: 'renameCollection',
      });
      return true;
    });
  });
});
