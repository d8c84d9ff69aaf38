import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON } from 'bson';
import type { RestoreNamespace, RestoreProgress, RestoreSnapshot, RestoreTarget } from './ports';
import { restoreSnapshot } from './restore-snapshot';
import { RestoreCancelledError, RestoreFailedError, TargetNotEmptyError } from './restore-errors';
import { parseRename } from './namespace-plan';

/** A recording target: what was called, and the documents per namespace. */
class RecordingTarget implements RestoreTarget {
  readonly calls: string[] = [];
  readonly docs = new Map<string, Uint8Array[]>();
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly existing: Record<string, number> = {},
    private readonly failInsert?: (ns: string, nth: number) => boolean,
    private readonly insertDelayMs = 0,
  ) {}
  private inserts = 0;
  async existingDocuments(ns: string): Promise<number> {
    return this.existing[ns] ?? 0;
  }
  async begin(namespaces: readonly RestoreNamespace[]): Promise<void> {
    this.calls.push(`begin ${namespaces.map((n) => n.targetNs).join(',')}`);
  }
  async prepare(ns: RestoreNamespace, options: { drop: boolean }): Promise<void> {
    this.calls.push(`prepare ${ns.targetNs}${options.drop ? ' drop' : ''}`);
    this.docs.set(ns.targetNs, []);
  }
  async insert(ns: RestoreNamespace, docs: readonly Uint8Array[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const nth = ++this.inserts;
      if (this.insertDelayMs > 0) await sleep(this.insertDelayMs);
      if (this.failInsert?.(ns.targetNs, nth) === true) throw new Error(`target refused batch ${nth}`);
      this.docs.get(ns.targetNs)!.push(...docs);
    } finally {
      this.inFlight--;
    }
  }
  async finish(ns: RestoreNamespace): Promise<void> {
    this.calls.push(`finish ${ns.targetNs}`);
  }
  async end(): Promise<void> {
    this.calls.push('end');
  }
}

const doc = (n: number) => BSON.serialize({ _id: n, pad: 'x'.repeat(100) });

function snapshotOf(counts: Record<string, number>) {
  const snapshot: RestoreSnapshot = {
    snapshotId: 's1',
    jobId: 'j',
    syncId: 'j-s1',
    opTime: { t: 5, i: 1 },
    namespaces: Object.entries(counts).map(([namespace, n]) => ({
      namespace,
      documentCount: n,
      logicalBytes: n * doc(0).length,
      options: {},
      indexes: [{ key: { a: 1 }, name: 'a_1' }],
    })),
  };
  const documents = (ns: string) =>
    (async function* () {
      for (let k = 0; k < (counts[ns] ?? 0); k++) yield doc(k);
    })();
  return { snapshot, documents };
}

describe('restoreSnapshot', () => {
  it('writes every namespace in batches, several at once, then finishes each and ends; reports progress', async () => {
    const { snapshot, documents } = snapshotOf({ 'a.x': 2500, 'a.y': 10, 'b.z': 0 });
    const target = new RecordingTarget({}, undefined, 2);
    const progress: RestoreProgress[] = [];
    const result = await restoreSnapshot({
      snapshot,
      documents,
      target,
      selection: { include: [], exclude: [], renames: [parseRename('a=r')] },
      tuning: { batchDocuments: 100, insertConcurrency: 3 },
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    });
    assert.equal(target.docs.get('r.x')!.length, 2500);
    assert.deepEqual(
      target.docs
        .get('r.x')!
        .map((d) => BSON.deserialize(d)['_id'])
        .sort((p, q) => p - q),
      Array.from({ length: 2500 }, (_, k) => k),
    );
    assert.equal(target.docs.get('r.y')!.length, 10);
    assert.equal(target.docs.get('b.z')!.length, 0);
    assert.equal(target.calls[0], 'begin r.x,r.y,b.z');
    assert.equal(target.calls.at(-1), 'end');
    for (const ns of ['r.x', 'r.y', 'b.z']) assert.ok(target.calls.includes(`finish ${ns}`));
    assert.ok(target.maxInFlight > 1 && target.maxInFlight <= 3, `in flight ${target.maxInFlight}`);
    assert.equal(result.documents, 2510);
    assert.deepEqual(result.namespaces['r.x'], {
      sourceNs: 'a.x',
      documents: 2500,
      bytes: 2500 * doc(0).length,
    });
    const last = progress.at(-1)!;
    assert.equal(last.documents, 2510);
    assert.ok(Object.values(last.namespaces).every((n) => n.done));
  });

  it('refuses non-empty target namespaces without --drop, before writing anything; replaces them with it', async () => {
    const { snapshot, documents } = snapshotOf({ 'a.x': 5, 'a.y': 5 });
    const full = new RecordingTarget({ 'a.y': 7 });
    await assert.rejects(
      restoreSnapshot({ snapshot, documents, target: full }),
      (err: unknown) =>
        err instanceof TargetNotEmptyError && /a\.y \(7\).*nothing was written.*--drop/.test(err.message),
    );
    assert.deepEqual(full.calls, []);
    const dropped = new RecordingTarget({ 'a.y': 7 });
    await restoreSnapshot({ snapshot, documents, target: dropped, drop: true });
    assert.ok(dropped.calls.includes('prepare a.y drop'));
  });

  it('a target that refuses writes midway fails the restore with the reason and what was written', async () => {
    const { snapshot, documents } = snapshotOf({ 'a.x': 1000, 'a.y': 3 });
    const target = new RecordingTarget({}, (ns, nth) => ns === 'a.x' && nth === 4);
    await assert.rejects(
      restoreSnapshot({
        snapshot,
        documents,
        target,
        tuning: { batchDocuments: 100, insertConcurrency: 1, namespaceConcurrency: 1 },
      }),
      (err: unknown) =>
        err instanceof RestoreFailedError &&
        /target refused batch 4/.test(err.message) &&
        /300 documents written; no namespace complete; partly written: a\.x \(300\)/.test(err.message),
    );
    assert.ok(!target.calls.includes('finish a.x') && !target.calls.includes('end'));
  });

  it('a snapshot that turns out damaged midway fails the restore; the namespace is never finished', async () => {
    const { snapshot } = snapshotOf({ 'a.x': 10 });
    const target = new RecordingTarget();
    const documents = () =>
      (async function* () {
        yield doc(1);
        throw new Error('block 9f00 is damaged');
      })();
    await assert.rejects(
      restoreSnapshot({ snapshot, documents, target }),
      (err: unknown) => err instanceof RestoreFailedError && /block 9f00 is damaged/.test(err.message),
    );
    assert.ok(!target.calls.includes('finish a.x'));
  });

  it('a cancel stops between batches and says what was written', async () => {
    const { snapshot, documents } = snapshotOf({ 'a.x': 5000 });
    const target = new RecordingTarget({}, undefined, 5);
    const cancel = new AbortController();
    const running = restoreSnapshot({
      snapshot,
      documents,
      target,
      tuning: { batchDocuments: 100, insertConcurrency: 1 },
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.documents >= 200) cancel.abort();
      },
      progressIntervalMs: 0,
    });
    await assert.rejects(
      running,
      (err: unknown) => err instanceof RestoreCancelledError && /restore cancelled/.test(err.message),
    );
    assert.ok(target.docs.get('a.x')!.length < 5000);
    assert.ok(!target.calls.includes('end'));
  });

  it('memory stays bounded: batches in flight never exceed the setting, whatever the size', async () => {
    const { snapshot, documents } = snapshotOf({ 'a.x': 20_000 });
    const target = new RecordingTarget({}, undefined, 1);
    await restoreSnapshot({
      snapshot,
      documents,
      target,
      tuning: { batchDocuments: 500, insertConcurrency: 2 },
    });
    assert.equal(target.docs.get('a.x')!.length, 20_000);
    assert.ok(target.maxInFlight <= 2);
  });
});
