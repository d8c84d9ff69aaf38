/* eslint-disable @nx/enforce-module-boundaries -- spec support only (not exported from the index): it wires the REAL
   implementations of the loop's ports exactly as apps/oplog-applier does (the oplog applier and in-memory target of
   @tidemark/oplog, the slice payload checks of @tidemark/slices, the in-memory oplog store and head registry held
   to their contract suites), so the specs prove the loop against the real formats. Production code in this
   library imports only @tidemark/domain and bson. */
import { BSON, Binary, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import {
  DEFAULT_SLICE_LIMITS,
  type HeadRegistry,
  type OpTime,
  type OplogSliceMeta,
  type Phase,
} from '@tidemark/domain';
import { MemoryHeadRegistry } from '@tidemark/head-store';
import { MemoryApplyTarget, OplogApplier } from '@tidemark/oplog';
import { MemoryOplogStore } from '@tidemark/oplog-store';
import { decodeSlicePayload, encodeSlicePayload } from '@tidemark/slices';
import { ApplyLoop, type ApplyLoopOptions } from './apply-loop';
import { MemoryMissingDocumentStore } from './memory-missing-document-store';
import type {
  ApplyJob,
  ApplyPhaseReport,
  EntryApplier,
  EntryApplierFactory,
  FetchMissingDocumentsCommand,
} from './ports';

export const JOB = 'job1';
export const SYNC = 'job1-s1';
export const ts = (t: number, i: number): OpTime => ({ t, i });

/** One oplog entry as raw BSON, in the layout FerretDB writes (its own `_id`, `t`, `v`, `wall`). */
export function entry(at: OpTime, fields: Document): Buffer {
  return Buffer.from(
    BSON.serialize({
      _id: new ObjectId(),
      ts: new Timestamp({ t: at.t, i: at.i }),
      t: new Long(1),
      v: new Int32(2),
      ...fields,
      wall: new Date(at.t * 1000),
    }),
  );
}

export const insert = (at: OpTime, ns: string, doc: Document) => entry(at, { op: 'i', ns, o: doc });
/** FerretDB's update: `$v:1` `$set` of the whole document, `_id` included. */
export const ferretUpdate = (at: OpTime, ns: string, doc: Document) =>
  entry(at, { op: 'u', ns, o: { $v: new Int32(1), $set: doc }, o2: { _id: doc['_id'] } });
/** MongoDB's `$v:2` diff update. */
export const diffUpdate = (at: OpTime, ns: string, id: unknown, diff: Document) =>
  entry(at, { op: 'u', ns, o: { $v: new Int32(2), diff }, o2: { _id: id } });
export const remove = (at: OpTime, ns: string, id: unknown) => entry(at, { op: 'd', ns, o: { _id: id } });
export const command = (at: OpTime, db: string, o: Document) => entry(at, { op: 'c', ns: `${db}.$cmd`, o });

const LSID = {
  id: new Binary(Buffer.from('9843 2f23 b96c 8138 c260 6ef8 bebc 0a82'.replace(/ /g, ''), 'hex'), 4),
  uid: new Binary(Buffer.alloc(32, 7), 0),
};

/** One entry of a multi-entry transaction: `applyOps` with `partialTxn` until the last one. */
export function txnPart(at: OpTime, prev: OpTime | undefined, ops: Document[], last: boolean): Buffer {
  return entry(at, {
    lsid: LSID,
    txnNumber: new Long(5),
    op: 'c',
    ns: 'admin.$cmd',
    o: last ? { applyOps: ops } : { applyOps: ops, partialTxn: true },
    prevOpTime: { ts: new Timestamp({ t: prev?.t ?? 0, i: prev?.i ?? 0 }), t: new Long(prev ? 1 : -1) },
  });
}

let sequence = 0;

/** An oplog slice covering `(prevTs, lastTs]` holding `entries`. */
export function oplogSlice(
  prevTs: OpTime,
  lastTs: OpTime,
  entries: Buffer[],
  tag = '',
): { meta: OplogSliceMeta; payload: Buffer } {
  const e = encodeSlicePayload(entries, 'gzip');
  const firstTs = entries.length === 0 ? undefined : tsOfEntry(entries[0]!);
  return {
    meta: {
      kind: 'oplog',
      jobId: JOB,
      syncId: SYNC,
      sliceId: `${SYNC}:o:${prevTs.t}.${prevTs.i}:${lastTs.t}.${lastTs.i}${tag}`,
      sequence: sequence++,
      prevTs,
      lastTs,
      ...(firstTs === undefined ? {} : { firstTs }),
      docCount: e.docCount,
      rawBytes: e.rawBytes,
      compressedBytes: e.compressedBytes,
      codec: e.codec,
      checksum: e.checksum,
    },
    payload: e.payload,
  };
}

function tsOfEntry(raw: Buffer): OpTime {
  const ts = BSON.deserialize(raw)['ts'] as Timestamp;
  return { t: ts.t, i: ts.i };
}

/** Events in the order the loop caused them (phase reports, commands, marks, stored positions). */
export type LoopEvent =
  | { kind: 'report'; report: ApplyPhaseReport }
  | { kind: 'command'; command: FetchMissingDocumentsCommand }
  | { kind: 'mark'; mark: string }
  | { kind: 'position'; ts: OpTime; missingStored: number };

export interface Harness {
  readonly store: MemoryOplogStore;
  readonly registry: HeadRegistry;
  readonly target: MemoryApplyTarget;
  readonly missing: MemoryMissingDocumentStore;
  readonly events: LoopEvent[];
  /** Timestamps of the entries handed to the applier, in order, across turns. */
  readonly applied: OpTime[];
  readonly loop: ApplyLoop;
  job(phase?: Phase): ApplyJob;
  put(slice: { meta: OplogSliceMeta; payload: Buffer }): Promise<void>;
  /** Records the scan catalog (appliedTs = startTs). */
  catalog(startTs: OpTime, endTs: OpTime): Promise<void>;
  reports(): ApplyPhaseReport[];
  commands(): FetchMissingDocumentsCommand[];
}

export function harness(
  options: ApplyLoopOptions & { wrapApplier?: (applier: EntryApplier) => EntryApplier } = {},
): Harness {
  const store = new MemoryOplogStore();
  const base = new MemoryHeadRegistry();
  const target = new MemoryApplyTarget();
  const missing = new MemoryMissingDocumentStore();
  const events: LoopEvent[] = [];
  const applied: OpTime[] = [];
  // The registry as the loop sees it: every stored position and mark is recorded, in order.
  const registry: HeadRegistry = Object.assign(Object.create(base) as HeadRegistry, {
    setAppliedTs: async (jobId: string, syncId: string, at: OpTime) => {
      events.push({ kind: 'position', ts: at, missingStored: await missing.count(jobId, syncId) });
      return base.setAppliedTs(jobId, syncId, at);
    },
    mark: async (jobId: string, syncId: string, mark: Parameters<HeadRegistry['mark']>[2]) => {
      events.push({ kind: 'mark', mark });
      return base.mark(jobId, syncId, mark);
    },
  });
  const appliers: EntryApplierFactory = (t, o) => {
    const real = new OplogApplier(t, o);
    const recording: EntryApplier = {
      applyEntry: async (doc) => {
        const result = await real.applyEntry(doc);
        const at = (doc as { ts: Timestamp }).ts;
        applied.push({ t: at.t, i: at.i });
        return result;
      },
      takeMissingDocuments: () => real.takeMissingDocuments(),
      resumeFrom: () => real.resumeFrom(),
    };
    return options.wrapApplier ? options.wrapApplier(recording) : recording;
  };
  const loop = new ApplyLoop(
    {
      store,
      registry,
      targets: () => target,
      appliers,
      decode: (payload, meta) => decodeSlicePayload(payload, meta, DEFAULT_SLICE_LIMITS),
      missing,
      phases: { report: async (report) => void events.push({ kind: 'report', report }) },
      commands: { fetchMissingDocuments: async (command) => void events.push({ kind: 'command', command }) },
    },
    options,
  );
  return {
    store,
    registry,
    target,
    missing,
    events,
    applied,
    loop,
    job: (phase = 'applying-oplogs') => ({ jobId: JOB, syncId: SYNC, syncNo: 1, phase }),
    put: async (slice) => void (await store.put(slice.meta, slice.payload)),
    catalog: (startTs, endTs) =>
      base.recordScanCatalog(JOB, SYNC, 1, {
        startTs,
        endTs,
        namespaces: [{ ns: 'shop.orders', headNs: 'th_job1_1_shop.orders', sliceCount: 0, docCount: 0 }],
      }),
    reports: () => events.flatMap((e) => (e.kind === 'report' ? [e.report] : [])),
    commands: () => events.flatMap((e) => (e.kind === 'command' ? [e.command] : [])),
  };
}

export const ORDERS = 'shop.orders';
export const HEAD_ORDERS = 'th_job1_1_shop.orders';
