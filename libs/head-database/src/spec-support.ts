/* eslint-disable @nx/enforce-module-boundaries -- spec support only (not exported from the index): it wires the REAL
   implementations of the loop's ports exactly as apps/oplog-applier does (the oplog applier and in-memory target of
   @tidemark/oplog, the slice payload checks of @tidemark/slices, the in-memory oplog store and head registry held
   to their contract suites), so the specs prove the loop against the real formats; oplog entries and slices come
   from @tidemark/testing. Production code in this library imports only @tidemark/domain and bson. */
import type { Timestamp } from 'bson';
import {
  DEFAULT_SLICE_LIMITS,
  type HeadRegistry,
  type OpTime,
  type OplogSliceMeta,
  type Phase,
} from '@tidemark/domain';
import { MemoryHeadRegistry } from './memory-head-registry';
import type { PhaseReport } from '@tidemark/domain';
import { MemoryApplyTarget, OplogApplier } from '@tidemark/oplog-apply';
import { MemoryOplogStore } from '@tidemark/oplog-store';
import { decodeSlicePayload } from '@tidemark/slices';
import { oplogSlice as jobOplogSlice, type TestSlice } from '@tidemark/testing';
import { ApplyLoop, type ApplyLoopOptions } from './apply-loop';
import { MemoryMissingDocumentStore } from './memory-missing-document-store';
import type { ApplyJob, EntryApplier, EntryApplierFactory, FetchMissingDocumentsCommand } from './ports';

export const JOB = 'job1';
export const SYNC = 'job1-s1';

/** An oplog slice of {@link JOB} covering `(prevTs, lastTs]` holding `entries`. */
export const oplogSlice = (
  prevTs: OpTime,
  lastTs: OpTime,
  entries: Buffer[],
  tag = '',
): TestSlice<OplogSliceMeta> => jobOplogSlice(JOB, prevTs, lastTs, entries, { tag });

/** Events in the order the loop caused them (phase reports, commands, marks, stored positions). */
export type LoopEvent =
  | { kind: 'report'; report: PhaseReport }
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
  put(slice: TestSlice<OplogSliceMeta>): Promise<void>;
  /** Records the scan catalog (appliedTs = startTs). */
  catalog(startTs: OpTime, endTs: OpTime): Promise<void>;
  reports(): PhaseReport[];
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
