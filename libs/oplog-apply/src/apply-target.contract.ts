/**
 * The conformance suite of the {@link ApplyTarget} port: every implementation (the in-memory one here, the
 * MongoDB-backed one in the apps' integration specs) runs `describeApplyTarget(name, factory)` and must pass all of
 * it. Each test gets a fresh fixture from `factory`; on a shared server the fixture's `db` must be unique per call
 * (tests also use the database `${db}x`, so a prefix match is caught).
 *
 * Documents are compared field by field in order, numbers by value (a driver may read an Int64 back as a JS
 * number), `_id` order ignored.
 *
 * A server that cannot pass a case (FerretDB lacks some commands) names it in `options.skip` with the reason, by
 * its exact title; a title the suite does not have fails the suite, so the list cannot go stale silently.
 */
import { afterEach, beforeEach, describe, it as nodeIt } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Double, EJSON, Int32 } from 'bson';
import type { Document } from 'bson';
import { TidemarkError, isRetriable } from '@tidemark/domain';
import type { ApplyTarget, IndexSpec } from './apply-target';
import { idKey } from './id-key';

/** Read access to a target's state, for the suite's assertions. */
export interface ApplyTargetInspector {
  /** Every document of `ns`, in any order; empty when the collection does not exist. */
  documents(ns: string): Promise<Document[]>;
  /** Names of the collections of database `db` (without the `db.` prefix), in any order. */
  collectionNames(db: string): Promise<string[]>;
  /** The collection's options as `listCollections` reports them; undefined when it does not exist. */
  collectionOptions(ns: string): Promise<Document | undefined>;
  /** The collection's indexes as `listIndexes` reports them; empty when it does not exist. */
  indexes(ns: string): Promise<IndexSpec[]>;
}

export interface ApplyTargetFixture {
  readonly target: ApplyTarget;
  readonly inspect: ApplyTargetInspector;
  /** A database name for this test alone. */
  readonly db: string;
  /** Called after each test (drop the test's databases, close clients). */
  dispose?(): Promise<void>;
}

function ejson(text: string): Document {
  return EJSON.parse(text, { relaxed: false }) as Document;
}

function show(docs: readonly Document[]): string {
  return EJSON.stringify(docs, { relaxed: true });
}

async function assertDocuments(
  fx: ApplyTargetFixture,
  ns: string,
  expected: readonly Document[],
): Promise<void> {
  const byId = (a: Document, b: Document): number => {
    const ka = idKey(a['_id']);
    const kb = idKey(b['_id']);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
  const actual = [...(await fx.inspect.documents(ns))].sort(byId);
  const wanted = [...expected].sort(byId);
  assert.deepEqual(
    actual.map((doc) => idKey(doc)),
    wanted.map((doc) => idKey(doc)),
    `documents of ${ns}: got ${show(actual)}, expected ${show(wanted)}`,
  );
}

async function assertFatal(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TidemarkError, `${what}: expected a TidemarkError, got ${String(err)}`);
    assert.equal(isRetriable(err), false, `${what}: must not be retriable`);
    return true;
  });
}

async function indexNames(fx: ApplyTargetFixture, ns: string): Promise<string[]> {
  return (await fx.inspect.indexes(ns)).map((spec) => spec.name).sort();
}

export interface ApplyTargetSuiteOptions {
  /** Cases this implementation cannot pass, by exact title, each with the reason (shown as the skip reason). */
  readonly skip?: Readonly<Record<string, string>>;
}

/** Registers the conformance suite for one {@link ApplyTarget} implementation. */
export function describeApplyTarget(
  name: string,
  factory: () => Promise<ApplyTargetFixture>,
  options: ApplyTargetSuiteOptions = {},
): void {
  const skips = new Map(Object.entries(options.skip ?? {}));
  const registered = new Set<string>();
  const it = (title: string, fn: (t: TestContext) => Promise<void>): void => {
    registered.add(title);
    const reason = skips.get(title);
    if (reason !== undefined && reason.trim() === '') throw new Error(`skip of "${title}" needs a reason`);
    nodeIt(title, reason === undefined ? {} : { skip: reason }, fn);
  };
  describe(`ApplyTarget contract: ${name}`, () => {
    let fx: ApplyTargetFixture;
    let ns: string;
    let target: ApplyTarget;

    beforeEach(async () => {
      fx = await factory();
      target = fx.target;
      ns = `${fx.db}.items`;
    });
    afterEach(async () => {
      await fx.dispose?.();
    });

    describe('documents', () => {
      it('insertOrReplace inserts, stores _id first, and a repeated insert leaves one document', async () => {
        const doc = ejson('{"a": 1, "_id": 7, "b": {"c": [1, 2]}}');
        await target.insertOrReplace(ns, doc);
        await target.insertOrReplace(ns, doc);
        await assertDocuments(fx, ns, [ejson('{"_id": 7, "a": 1, "b": {"c": [1, 2]}}')]);
        const [stored] = await fx.inspect.documents(ns);
        assert.deepEqual(Object.keys(stored ?? {}), ['_id', 'a', 'b']);
      });

      it('insertOrReplace of an existing _id replaces the whole document', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1, "a": 1, "b": 2}'));
        await target.insertOrReplace(ns, ejson('{"_id": 1, "c": 3}'));
        await target.insertOrReplace(ns, ejson('{"_id": 2, "z": 0}'));
        await assertDocuments(fx, ns, [ejson('{"_id": 1, "c": 3}'), ejson('{"_id": 2, "z": 0}')]);
      });

      it('insertOrReplace creates the collection with an _id_ index', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": "x"}'));
        assert.deepEqual(await fx.inspect.collectionNames(fx.db), ['items']);
        assert.deepEqual(await indexNames(fx, ns), ['_id_']);
      });

      it('_ids are matched by value across numeric types', async () => {
        await target.insertOrReplace(ns, { _id: new Int32(5), a: 1 });
        const result = await target.update(
          ns,
          { _id: new Double(5) },
          { kind: 'modifier', spec: { $set: { a: 2 } } },
        );
        assert.equal(result.matched, true);
        assert.deepEqual(await target.delete(ns, { _id: 5 }), { deleted: true });
        await assertDocuments(fx, ns, []);
      });

      it('update with $set/$unset keeps updated fields in place and appends new ones', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1, "a": 1, "b": 1, "arr": ["p"], "gone": true}'));
        const result = await target.update(
          ns,
          { _id: 1 },
          {
            kind: 'modifier',
            spec: { $set: { b: 2, 'c.d': 1, 'arr.1': 'x' }, $unset: { gone: '' } },
          },
        );
        assert.deepEqual(result, { matched: true });
        await assertDocuments(fx, ns, [
          ejson('{"_id": 1, "a": 1, "b": 2, "arr": ["p", "x"], "c": {"d": 1}}'),
        ]);
      });

      it('$set past the end of an array pads with null; $unset of an array element sets it to null', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1, "arr": [1, 2, 3]}'));
        await target.update(
          ns,
          { _id: 1 },
          { kind: 'modifier', spec: { $set: { 'arr.5': 6 }, $unset: { 'arr.0': '' } } },
        );
        await assertDocuments(fx, ns, [ejson('{"_id": 1, "arr": [null, 2, 3, null, null, 6]}')]);
      });

      it('$push with $each: [] and $slice cuts an array to its first n elements', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1, "arr": [1, 2, 3, 4], "n": {"deep": [5, 6, 7]}}'));
        await target.update(
          ns,
          { _id: 1 },
          { kind: 'modifier', spec: { $push: { arr: { $each: [], $slice: 2 } } } },
        );
        await target.update(
          ns,
          { _id: 1 },
          { kind: 'modifier', spec: { $push: { 'n.deep': { $each: [], $slice: 0 } } } },
        );
        await assertDocuments(fx, ns, [ejson('{"_id": 1, "arr": [1, 2], "n": {"deep": []}}')]);
      });

      it('update of a missing document matches nothing and never upserts', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1}'));
        assert.deepEqual(
          await target.update(ns, { _id: 2 }, { kind: 'modifier', spec: { $set: { a: 1 } } }),
          {
            matched: false,
          },
        );
        assert.deepEqual(await target.update(ns, { _id: 2 }, { kind: 'replacement', doc: { a: 1 } }), {
          matched: false,
        });
        assert.deepEqual(
          await target.update(`${fx.db}.nothing`, { _id: 1 }, { kind: 'replacement', doc: { a: 1 } }),
          { matched: false },
        );
        await assertDocuments(fx, ns, [ejson('{"_id": 1}')]);
      });

      it('a replacement keeps the _id and takes the field order of the new document', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1, "a": 1, "b": 2}'));
        await target.update(ns, { _id: 1 }, { kind: 'replacement', doc: ejson('{"b": 3, "c": {"x": 1}}') });
        await assertDocuments(fx, ns, [ejson('{"_id": 1, "b": 3, "c": {"x": 1}}')]);
      });

      it('rejects, as not retriable, an _id change, overlapping paths and a path through a scalar', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1, "a": 5, "arr": [1]}'));
        await assertFatal(
          target.update(ns, { _id: 1 }, { kind: 'replacement', doc: { _id: 2 } }),
          'changed _id',
        );
        await assertFatal(
          target.update(
            ns,
            { _id: 1 },
            { kind: 'modifier', spec: { $set: { 'arr.0': 1 }, $push: { arr: { $each: [], $slice: 1 } } } },
          ),
          'overlapping paths',
        );
        await assertFatal(
          target.update(ns, { _id: 1 }, { kind: 'modifier', spec: { $set: { 'a.b': 1 } } }),
          'scalar',
        );
        await assertDocuments(fx, ns, [ejson('{"_id": 1, "a": 5, "arr": [1]}')]);
      });

      it('delete removes the document; deleting a missing one reports deleted: false', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1}'));
        await target.insertOrReplace(ns, ejson('{"_id": 2}'));
        assert.deepEqual(await target.delete(ns, { _id: 1 }), { deleted: true });
        assert.deepEqual(await target.delete(ns, { _id: 1 }), { deleted: false });
        assert.deepEqual(await target.delete(`${fx.db}.nothing`, { _id: 1 }), { deleted: false });
        await assertDocuments(fx, ns, [ejson('{"_id": 2}')]);
      });

      it('findById returns the current document or null when readYourWrites is declared', async (t) => {
        if (!target.capabilities.readYourWrites) {
          t.skip('target does not declare readYourWrites');
          return;
        }
        assert.equal(typeof target.findById, 'function', 'readYourWrites requires findById');
        await target.insertOrReplace(ns, ejson('{"_id": 1, "a": 1}'));
        await target.update(ns, { _id: 1 }, { kind: 'modifier', spec: { $set: { a: 2 } } });
        const found = await target.findById?.(ns, { _id: 1 });
        assert.equal(idKey(found), idKey(ejson('{"_id": 1, "a": 2}')));
        assert.equal(await target.findById?.(ns, { _id: 9 }), null);
        assert.equal(await target.findById?.(`${fx.db}.nothing`, { _id: 1 }), null);
      });
    });

    describe('collections', () => {
      it('createCollection applies the options; creating it again changes nothing', async () => {
        const validator = ejson('{"$jsonSchema": {"required": ["a"]}}');
        await target.createCollection(ns, { validator });
        await target.createCollection(ns, { capped: true, size: 4096 });
        const options = await fx.inspect.collectionOptions(ns);
        assert.ok(options !== undefined, 'collection exists');
        assert.equal(idKey(options['validator']), idKey(validator));
        assert.equal(options['capped'], undefined);
        assert.deepEqual(await indexNames(fx, ns), ['_id_']);
      });

      it('dropCollection drops documents and indexes; dropping again is not an error', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1}'));
        await target.createIndexes(ns, [{ key: { a: 1 }, name: 'a_1' }]);
        await target.dropCollection(ns);
        await target.dropCollection(ns);
        assert.deepEqual(await fx.inspect.collectionNames(fx.db), []);
        await assertDocuments(fx, ns, []);
      });

      it('renameCollection moves documents and indexes, also across databases', async () => {
        const to = `${fx.db}x.moved`;
        await target.insertOrReplace(ns, ejson('{"_id": 1, "a": 1}'));
        await target.createIndexes(ns, [{ key: { a: 1 }, name: 'a_1' }]);
        await target.renameCollection(ns, to, false);
        assert.deepEqual(await fx.inspect.collectionNames(fx.db), []);
        await assertDocuments(fx, to, [ejson('{"_id": 1, "a": 1}')]);
        assert.deepEqual(await indexNames(fx, to), ['_id_', 'a_1']);
        // Redelivered: the source is gone, so the rename counts as done.
        await target.renameCollection(ns, to, false);
        await assertDocuments(fx, to, [ejson('{"_id": 1, "a": 1}')]);
        await target.dropDatabase(`${fx.db}x`);
      });

      it('renameCollection onto an existing collection needs dropTarget', async () => {
        const to = `${fx.db}.other`;
        await target.insertOrReplace(ns, ejson('{"_id": 1}'));
        await target.insertOrReplace(to, ejson('{"_id": 2}'));
        await assertFatal(target.renameCollection(ns, to, false), 'rename onto an existing collection');
        await assertDocuments(fx, ns, [ejson('{"_id": 1}')]);
        await target.renameCollection(ns, to, true);
        await assertDocuments(fx, to, [ejson('{"_id": 1}')]);
        assert.deepEqual(await fx.inspect.collectionNames(fx.db), ['other']);
      });

      it('dropDatabase drops that database only and can be repeated', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1}'));
        await target.insertOrReplace(`${fx.db}.more`, ejson('{"_id": 1}'));
        await target.insertOrReplace(`${fx.db}x.kept`, ejson('{"_id": 1}'));
        await target.dropDatabase(fx.db);
        await target.dropDatabase(fx.db);
        assert.deepEqual(await fx.inspect.collectionNames(fx.db), []);
        await assertDocuments(fx, `${fx.db}x.kept`, [ejson('{"_id": 1}')]);
        await target.dropDatabase(`${fx.db}x`);
      });

      it('collMod changes options and index flags; on a missing collection it does nothing', async () => {
        await target.createCollection(ns, {});
        await target.createIndexes(ns, [{ key: { a: 1 }, name: 'a_1' }]);
        const validator = ejson('{"a": {"$exists": true}}');
        await target.collMod(ns, { validator, validationLevel: 'moderate' });
        await target.collMod(ns, { index: { name: 'a_1', hidden: true } });
        const options = await fx.inspect.collectionOptions(ns);
        assert.equal(idKey(options?.['validator']), idKey(validator));
        assert.equal(options?.['validationLevel'], 'moderate');
        const index = (await fx.inspect.indexes(ns)).find((spec) => spec.name === 'a_1');
        assert.equal(index?.['hidden'], true);
        await target.collMod(`${fx.db}.nothing`, { validationLevel: 'off' });
        assert.deepEqual((await fx.inspect.collectionNames(fx.db)).sort(), ['items']);
      });

      it('convertToCapped makes the collection capped and keeps its documents', async () => {
        await target.insertOrReplace(ns, ejson('{"_id": 1}'));
        await target.convertToCapped(ns, { size: 1 << 20 });
        const options = await fx.inspect.collectionOptions(ns);
        assert.equal(options?.['capped'], true);
        assert.equal(Number(options?.['size']), 1 << 20);
        await assertDocuments(fx, ns, [ejson('{"_id": 1}')]);
        await target.convertToCapped(`${fx.db}.nothing`, { size: 4096 });
      });
    });

    describe('indexes', () => {
      it('createIndexes creates the collection and the indexes; an identical index is skipped', async () => {
        const spec = { v: 2, key: { a: 1, b: -1 }, name: 'a_1_b_-1', unique: true };
        await target.createIndexes(ns, [spec]);
        await target.createIndexes(ns, [spec, { key: { c: 1 }, name: 'c_1' }]);
        assert.deepEqual(await indexNames(fx, ns), ['_id_', 'a_1_b_-1', 'c_1']);
        const stored = (await fx.inspect.indexes(ns)).find((index) => index.name === 'a_1_b_-1');
        assert.equal(idKey(stored?.key), idKey({ a: 1, b: -1 }));
        assert.equal(stored?.['unique'], true);
      });

      it('createIndexes rejects a different index under an existing name', async () => {
        await target.createIndexes(ns, [{ key: { a: 1 }, name: 'idx' }]);
        await assertFatal(target.createIndexes(ns, [{ key: { b: 1 }, name: 'idx' }]), 'name clash');
      });

      it('dropIndexes drops named indexes, ignores missing ones, and "*" keeps _id_', async () => {
        await target.createIndexes(ns, [
          { key: { a: 1 }, name: 'a_1' },
          { key: { b: 1 }, name: 'b_1' },
          { key: { c: 1 }, name: 'c_1' },
        ]);
        await target.dropIndexes(ns, ['a_1', 'not_there']);
        assert.deepEqual(await indexNames(fx, ns), ['_id_', 'b_1', 'c_1']);
        await target.dropIndexes(ns, '*');
        assert.deepEqual(await indexNames(fx, ns), ['_id_']);
        await target.dropIndexes(`${fx.db}.nothing`, ['a_1']);
        await target.dropIndexes(`${fx.db}.nothing`, '*');
      });
    });

    nodeIt('skips name cases of this suite only', () => {
      const unknown = [...skips.keys()].filter((title) => !registered.has(title));
      assert.deepEqual(unknown, [], `options.skip names cases this suite does not have`);
    });
  });
}
