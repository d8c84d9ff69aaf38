import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Int32 } from 'bson';
import type { Document } from 'bson';
import { TidemarkError, UnknownOplogCommandError } from '@tidemark/domain';
import { OplogApplier } from './applier';
import type { ApplyTarget, IdFilter, TargetUpdate, UpdateResult } from './apply-target';
import { MalformedOplogEntryError, OplogApplyError, UnreplayableEntryError } from './errors';
import { MemoryApplyTarget } from './memory-target';
import { assertDocuments, canonical, ejson, outcomes, replay } from './spec-support';

let counter = 0;
function entry(fields: string): Document {
  counter += 1;
  return ejson(`{"ts": {"$timestamp": {"t": 1700000100, "i": ${counter}}}, ${fields}}`);
}
const insert = (ns: string, id: number): Document => entry(`"op": "i", "ns": "${ns}", "o": {"_id": ${id}}`);

/** A MemoryApplyTarget that fails chosen calls, and can hide its reads. */
class FlakyTarget extends MemoryApplyTarget {
  failNext: Error | undefined;
  updates: TargetUpdate[] = [];

  override async insertOrReplace(ns: string, doc: Document): Promise<void> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure !== undefined) throw failure;
    return super.insertOrReplace(ns, doc);
  }

  override async update(ns: string, filter: IdFilter, update: TargetUpdate): Promise<UpdateResult> {
    this.updates.push(update);
    return super.update(ns, filter, update);
  }
}

describe('OplogApplier: order of checks', () => {
  it('skips admin, config, local and system.* namespaces, and those mapNamespace drops', async () => {
    const { target, results } = await replay(
      [
        insert('admin.x', 1),
        insert('config.x', 1),
        insert('local.x', 1),
        insert('db.system.js', 1),
        insert('db.skip', 1),
        insert('db.keep', 1),
      ],
      { mapNamespace: (ns) => (ns === 'db.skip' ? null : ns) },
    );
    assert.deepEqual(outcomes(results), [
      'skipped-namespace',
      'skipped-namespace',
      'skipped-namespace',
      'skipped-namespace',
      'skipped-namespace',
      'applied',
    ]);
    assert.deepEqual(target.namespaces(), ['db.keep']);
  });

  it('treats until as an exclusive bound and applies nothing once it is reached', async () => {
    counter = 0;
    const entries = [
      insert('db.c', 1),
      insert('db.c', 2),
      insert('db.c', 3),
      insert('admin.c', 4),
      insert('db.c', 5),
    ];
    const applier = new OplogApplier(new MemoryApplyTarget(), { until: { t: 1700000100, i: 2 } });
    const seen = [];
    for (const e of entries) seen.push((await applier.applyEntry(e)).outcome);
    // Excluded namespaces are judged before the bound, as in mongo-tools' HandleOp.
    assert.deepEqual(seen, [
      'applied',
      'until-reached',
      'until-reached',
      'skipped-namespace',
      'until-reached',
    ]);
    assert.equal(applier.untilReached, true);
  });

  it('judges namespaces before op types: a no-op is skipped either way', async () => {
    const { results } = await replay([
      entry('"op": "n", "ns": "", "o": {"msg": "x"}'),
      entry('"op": "db", "ns": "db", "o": {}'),
    ]);
    assert.deepEqual(outcomes(results), ['skipped-op', 'skipped-op']);
  });
});

describe('OplogApplier: errors', () => {
  it("wraps target failures with the entry's context and keeps their retriability", async () => {
    const target = new FlakyTarget();
    const applier = new OplogApplier(target);
    target.failNext = new TidemarkError('connection reset', { retriable: true });
    const failing = insert('db.c', 1);
    await assert.rejects(applier.applyEntry(failing), (err: unknown) => {
      assert.ok(err instanceof OplogApplyError);
      assert.equal(err.retriable, true);
      assert.equal(err.context.ns, 'db.c');
      assert.equal(err.context.op, 'i');
      assert.match(err.message, /applying op "i" on db\.c at 1700000100:\d+ failed: connection reset/);
      return true;
    });
    // The same entry succeeds on retry.
    assert.equal((await applier.applyEntry(failing)).outcome, 'applied');
    target.failNext = new Error('unclassified');
    await assert.rejects(
      applier.applyEntry(insert('db.c', 2)),
      (err: unknown) => err instanceof OplogApplyError && !err.retriable,
    );
  });

  it('names the position of a failing op nested in applyOps', async () => {
    const target = new FlakyTarget();
    const applier = new OplogApplier(target);
    target.failNext = new Error('boom');
    const applyOps = entry(`"op": "c", "ns": "admin.$cmd", "o": {"applyOps": [
      {"op": "n", "ns": "", "o": {}}, {"op": "i", "ns": "db.c", "o": {"_id": 1}}]}`);
    await assert.rejects(applier.applyEntry(applyOps), (err: unknown) => {
      assert.ok(err instanceof OplogApplyError);
      assert.equal(err.context.path, 'applyOps[1]');
      assert.equal(err.context.ns, 'db.c');
      return true;
    });
  });

  it('wraps malformed entries, keeping the validation error as the cause', async () => {
    await assert.rejects(
      replay([entry('"op": "u", "ns": "db.c", "o": {"$set": {"a": 1}}')]),
      (err: unknown) => {
        assert.ok(err instanceof OplogApplyError);
        assert.ok(err.cause instanceof MalformedOplogEntryError);
        assert.equal(err.retriable, false);
        return true;
      },
    );
  });

  it('refuses commands the table refuses, and unknown commands nested in applyOps', async () => {
    await assert.rejects(
      replay([entry('"op": "c", "ns": "db.$cmd", "o": {"emptycapped": "c"}')]),
      (err: unknown) => err instanceof OplogApplyError && err.cause instanceof UnreplayableEntryError,
    );
    await assert.rejects(
      replay([
        entry(
          '"op": "c", "ns": "admin.$cmd", "o": {"applyOps": [{"op": "c", "ns": "db.$cmd", "o": {"mystery": 1}}]}',
        ),
      ]),
      (err: unknown) => err instanceof UnknownOplogCommandError && err.command === 'mystery',
    );
    await assert.rejects(
      replay([entry('"op": "c", "ns": "admin.$cmd", "o": {"someFutureCommand": 1}')]),
      UnknownOplogCommandError,
    );
  });

  it('refuses a second call while an entry is being applied', async () => {
    const applier = new OplogApplier(new MemoryApplyTarget());
    const first = applier.applyEntry(insert('db.c', 1));
    await assert.rejects(applier.applyEntry(insert('db.c', 2)), /one at a time/);
    await first;
  });

  it('refuses a mapNamespace result that is not a namespace', async () => {
    await assert.rejects(replay([insert('db.c', 1)], { mapNamespace: () => 'nodot' }), /not "db.collection"/);
  });
});

describe('OplogApplier: update strategies', () => {
  const diffUpdate = (): Document =>
    entry('"op": "u", "ns": "db.c", "o": {"$v": 2, "diff": {"u": {"a": 2}}}, "o2": {"_id": 1}');

  it('computes post-images when the target reads its writes', async () => {
    const target = new FlakyTarget();
    await replay([insert('db.c', 1), diffUpdate()], { target });
    assert.deepEqual(
      target.updates.map((update) => update.kind),
      ['replacement'],
    );
    assertDocuments(target, 'db.c', '[{"_id": 1, "a": 2}]');
  });

  it('translates diffs to modifiers when the target cannot read', async () => {
    const memory = new MemoryApplyTarget();
    const updates: TargetUpdate[] = [];
    const writeOnly: ApplyTarget = {
      capabilities: { readYourWrites: false },
      insertOrReplace: (ns, doc) => memory.insertOrReplace(ns, doc),
      update: (ns, filter, update) => {
        updates.push(update);
        return memory.update(ns, filter, update);
      },
      delete: (ns, filter) => memory.delete(ns, filter),
      createCollection: (ns, options) => memory.createCollection(ns, options),
      dropCollection: (ns) => memory.dropCollection(ns),
      renameCollection: (from, to, dropTarget) => memory.renameCollection(from, to, dropTarget),
      dropDatabase: (db) => memory.dropDatabase(db),
      createIndexes: (ns, specs) => memory.createIndexes(ns, specs),
      dropIndexes: (ns, names) => memory.dropIndexes(ns, names),
      collMod: (ns, options) => memory.collMod(ns, options),
      convertToCapped: (ns, options) => memory.convertToCapped(ns, options),
    };
    const applier = new OplogApplier(writeOnly);
    assert.equal(applier.updateStrategy, 'modifier');
    await replay([insert('db.c', 1), diffUpdate()], { target: memory, applier });
    assert.equal(canonical(updates), canonical([{ kind: 'modifier', spec: { $set: { a: new Int32(2) } } }]));
    assert.throws(() => new OplogApplier(writeOnly, { updateStrategy: 'post-image' }), TidemarkError);
  });

  it('probes with an empty $set when a diff changes nothing a modifier can express', async () => {
    const target = new FlakyTarget();
    const probe = entry(
      '"op": "u", "ns": "db.c", "o": {"$v": 2, "diff": {"sa": {"a": true}}}, "o2": {"_id": 1}',
    );
    const { results } = await replay([insert('db.c', 1), probe], { target, updateStrategy: 'modifier' });
    assert.deepEqual(target.updates, [{ kind: 'modifier', spec: { $set: {} } }]);
    assert.equal(results[1]?.outcome, 'applied');
  });
});

describe('OplogApplier: missing documents and DDL', () => {
  it('moves missing documents with a rename and forgets them on drop', async () => {
    const update = (ns: string, id: number): Document =>
      entry(`"op": "u", "ns": "${ns}", "o": {"$v": 1, "$set": {"a": 1}}, "o2": {"_id": ${id}}`);
    const { applier } = await replay([
      update('db.a', 1),
      update('db.b', 2),
      entry('"op": "c", "ns": "admin.$cmd", "o": {"renameCollection": "db.a", "to": "db.z"}'),
      entry('"op": "c", "ns": "db.$cmd", "o": {"drop": "b"}'),
    ]);
    assert.deepEqual(
      applier.missingDocuments().map((doc) => [doc.sourceNs, doc.targetNs]),
      [['db.z', 'db.z']],
    );
  });

  it('applies legacy convertToCapped entries', async () => {
    const { target } = await replay([
      insert('db.c', 1),
      entry('"op": "c", "ns": "db.$cmd", "o": {"convertToCapped": "c", "size": 4096}'),
    ]);
    assert.deepEqual(target.collectionOptions('db.c'), { capped: true, size: 4096 });
  });
});
