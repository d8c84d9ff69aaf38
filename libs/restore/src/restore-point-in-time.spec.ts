/**
 * Point-in-time restores over stored oplog slices built from the MongoDB-format fixtures of `@tidemark/oplog-apply`
 * (commands, transactions, `$v:2` diffs: entries FerretDB never writes). For every fixture, every split k where no
 * transaction is open (a snapshot position: the head never stores a position inside one) and every point T after it:
 * the snapshot (the state after k entries) restored and the stored slices replayed to T must equal the fixture's
 * entries applied directly up to T (documents with their field order and types, options, indexes).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BSON, EJSON, type Document } from 'bson';
import { formatOpTime, restorableWindow, type OpTime } from '@tidemark/domain';
import { openSliceEntries } from '@tidemark/head-database';
import { MemoryApplyTarget, OplogApplier } from '@tidemark/oplog-apply';
import { MemoryOplogStore } from '@tidemark/oplog-store';
import { encodeSlicePayload, oplogSliceId, oplogSliceMeta } from '@tidemark/slices';
import { WRAPPED_VALUES } from '@tidemark/util';
import { DEFAULT_SLICE_LIMITS } from '@tidemark/domain';
import { decodeSlicePayload } from '@tidemark/slices';
import type { RestoreNamespace, RestoreSnapshot, RestoreTarget } from './ports';
import { restorePointInTime } from './restore-point-in-time';
import { storedOplogEntries } from './stored-oplog';
import { parseRestorePoint } from './restore-point';

const FIXTURES = join(__dirname, '..', '..', 'oplog-apply', 'src', 'fixtures');
/** Fixtures whose entries are not one applicable history (an unknown command is refused by design). */
const NOT_A_HISTORY = new Set([
  'unknown_command', // refused by design
  'cmd_create_view_timeseries', // views and time-series are refused by design (README)
  'missing_document_update', // an update of a document the history never inserted
  'redelivery_idempotent', // the same entries twice
]);
const JOB = 'j1';
const SYNC = 'j1-s1';

/** A RestoreTarget over the applier's memory target, so the restore and the replay write to one state. */
class MemoryRestoreTarget implements RestoreTarget {
  constructor(readonly state: MemoryApplyTarget) {}
  async existingDocuments(ns: string): Promise<number> {
    return this.state.documents(ns).length;
  }
  async begin(): Promise<void> {}
  async prepare(ns: RestoreNamespace, options: { drop: boolean }): Promise<void> {
    if (options.drop) await this.state.dropCollection(ns.targetNs);
    await this.state.createCollection(ns.targetNs, ns.options as Document);
  }
  async insert(ns: RestoreNamespace, docs: readonly Uint8Array[]): Promise<void> {
    for (const d of docs) await this.state.insertOrReplace(ns.targetNs, BSON.deserialize(d, WRAPPED_VALUES));
  }
  async finish(ns: RestoreNamespace): Promise<void> {
    for (const spec of ns.indexes) await this.state.createIndexes(ns.targetNs, [spec as never]);
  }
  async end(): Promise<void> {}
}

const tsOf = (e: Document): OpTime => {
  const ts = e['ts'] as BSON.Timestamp;
  return { t: ts.t, i: ts.i };
};

/** The whole state, comparable: namespaces sorted, documents by `_id`, options and indexes as created. */
function stateOf(target: MemoryApplyTarget): string {
  return EJSON.stringify(
    target.namespaces().map((ns) => ({
      ns,
      options: target.collectionOptions(ns),
      indexes: target.indexes(ns),
      docs: target
        .documents(ns)
        .map((d) => EJSON.stringify(d, { relaxed: false }))
        .sort(),
    })),
    { relaxed: false },
  );
}

/** A snapshot of `state` at `at`: every namespace's documents as raw BSON, options and indexes. */
function snapshotOf(state: MemoryApplyTarget, at: OpTime, snapshotId: string) {
  const docs = new Map<string, Uint8Array[]>();
  const snapshot: RestoreSnapshot = {
    snapshotId,
    jobId: JOB,
    syncId: SYNC,
    opTime: at,
    namespaces: state.namespaces().map((ns) => {
      const raw = state.documents(ns).map((d) => BSON.serialize(d));
      docs.set(ns, raw);
      return {
        namespace: ns,
        documentCount: raw.length,
        logicalBytes: raw.reduce((n, d) => n + d.length, 0),
        options: state.collectionOptions(ns) ?? {},
        indexes: state.indexes(ns),
      };
    }),
  };
  return { snapshot, docs };
}

/** Stores the entries after `from` as oplog slices of `perSlice` entries each, chained. */
async function storeSlices(
  entries: readonly Buffer[],
  from: OpTime,
  perSlice: number,
): Promise<MemoryOplogStore> {
  const store = new MemoryOplogStore();
  let prevTs = from;
  for (let k = 0; k < entries.length; k += perSlice) {
    const part = entries.slice(k, k + perSlice);
    const first = tsOf(BSON.deserialize(part[0]!));
    const lastTs = tsOf(BSON.deserialize(part[part.length - 1]!));
    const payload = encodeSlicePayload(part, 'gzip');
    const meta = oplogSliceMeta(
      { jobId: JOB, syncId: SYNC },
      { sliceId: oplogSliceId(SYNC, prevTs, lastTs), sequence: k, prevTs, firstTs: first, lastTs },
      payload,
    );
    await store.put(meta, payload.payload);
    prevTs = lastTs;
  }
  return store;
}

function loadEntries(name: string): Buffer[] {
  const parsed = EJSON.parse(readFileSync(join(FIXTURES, name), 'utf8'), { relaxed: false }) as {
    entries: Document[];
  };
  return parsed.entries.map((e) => Buffer.from(BSON.serialize(e)));
}

describe('point-in-time restore over stored slices of MongoDB-format oplog fixtures', () => {
  const fixtures = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => !NOT_A_HISTORY.has(f.replace(/\.json$/, '')));

  for (const file of fixtures) {
    it(`${file}: every snapshot split and every point after it equals applying the entries directly`, async () => {
      const raw = loadEntries(file);
      const entries = raw.map((b) => BSON.deserialize(b, WRAPPED_VALUES));
      // Direct application: the state after each entry, and where no transaction is open.
      const direct = new MemoryApplyTarget();
      const directApplier = new OplogApplier(direct);
      const states: string[] = [stateOf(direct)];
      const snapshotStates: Array<MemoryApplyTarget | undefined> = [structuredCloneTarget(direct)];
      for (const e of entries) {
        await directApplier.applyEntry(e);
        states.push(stateOf(direct));
        snapshotStates.push(
          directApplier.resumeFrom() === undefined ? structuredCloneTarget(direct) : undefined,
        );
      }
      let checked = 0;
      for (let k = 0; k < entries.length; k++) {
        const at = snapshotStates[k];
        if (at === undefined) continue; // inside a transaction: never a snapshot position
        const from: OpTime = k === 0 ? { t: tsOf(entries[0]!).t - 1, i: 0 } : tsOf(entries[k - 1]!);
        const { snapshot, docs } = snapshotOf(at, from, `snap-${k}`);
        const store = await storeSlices(raw.slice(k), from, 2);
        for (let j = k; j <= entries.length; j++) {
          const point = j === k ? from : tsOf(entries[j - 1]!);
          const restored = new MemoryApplyTarget();
          const ports = {
            store,
            decode: (payload: Buffer, meta: Parameters<typeof decodeSlicePayload>[1]) =>
              decodeSlicePayload(payload, meta, DEFAULT_SLICE_LIMITS),
            open: (r: readonly Buffer[], meta: Parameters<typeof openSliceEntries>[1]) =>
              openSliceEntries(r, meta, { verifyRoundTrip: true }),
          };
          const window = restorableWindow([snapshot], () => ({
            from,
            to: { opTime: tsOf(entries[entries.length - 1]!) },
          }));
          const result = await restorePointInTime({
            snapshots: [snapshot],
            window,
            point: parseRestorePoint(formatOpTime(point)),
            documents: (_s, ns) =>
              (async function* () {
                yield* docs.get(ns) ?? [];
              })(),
            oplog: (syncId, after) => storedOplogEntries(ports, JOB, syncId, after),
            applier: (mapNamespace) => new OplogApplier(restored, { mapNamespace }),
            target: new MemoryRestoreTarget(restored),
            now: new Date(8_000_000_000_000),
          });
          assert.equal(
            stateOf(restored),
            states[j],
            `${file}: snapshot after ${k} entries, restored to ${formatOpTime(point)} (entry ${j})`,
          );
          assert.equal(result.entries, j - k);
          checked++;
        }
      }
      assert.ok(checked > 0);
    });
  }
});

/** A copy of a memory target's state (the snapshot at a split), by replaying nothing: rebuilt from its inspection. */
function structuredCloneTarget(source: MemoryApplyTarget): MemoryApplyTarget {
  const copy = new MemoryApplyTarget();
  for (const ns of source.namespaces()) {
    void copy.createCollection(ns, source.collectionOptions(ns) ?? {});
    for (const d of source.documents(ns)) void copy.insertOrReplace(ns, d);
    for (const ix of source.indexes(ns)) void copy.createIndexes(ns, [ix]);
  }
  return copy;
}
