/**
 * `ApplyLoop.applyPending(job)`: one bounded turn of applying a job's stored oplog slices to its head database
 * (docs/pipeline.md step 5, docs/format.md "Where the applied position lives"). It reads top to bottom:
 *
 * 1. read the head record: position `p = appliedTs` (the transfer's `startTs` at first); no head yet, nothing to do;
 * 2. if the sync is applying oplogs and `p >= endTs`, request the missing documents once (below);
 * 3. repeatedly: `findCovering(p)` (any stored slice with `prevTs <= p < lastTs`, the longest), load it, check it
 *    (`decode`: size, checksum, framing, count; then entry order and range), apply its entries with `ts > p` in
 *    order, and store the position: after the slice (`lastTs`: the range is complete, nothing else lies before it)
 *    and right after every command entry. Missing documents the applier found are recorded BEFORE the position
 *    that covers them is stored, so a crash never loses one;
 * 4. stop when no stored slice continues the chain (caught up, or a gap: wait for the slice to be stored), or after
 *    `maxSlicesPerTurn` slices so that jobs interleave fairly. The cap waits while a transaction is open (its
 *    buffered operations would be lost with the turn's applier; the transaction buffer bounds that);
 * 5. report the applied position on `tidemark.phases` (at most once per `progressIntervalMs` per job) so job-state
 *    shows the lag.
 *
 * The position only moves forward (`HeadRegistry.setAppliedTs`) and never past the first entry of an open
 * transaction (`EntryApplier.resumeFrom()`): a new turn, in this process or another, restarts from the stored
 * position and rebuilds the transaction from its first entry. Re-applied entries are harmless (apply is
 * idempotent). A turn holds the job's lease; `guard.check()` runs before every slice and every stored position and
 * throws `LeaseLostError` when the lease is gone.
 *
 * **Missing documents.** When the position reaches the transfer's `endTs` while the sync is in `applying-oplogs`
 * (or `fetching-missing-documents`, when a crash came between the report and the mark), the loop reports
 * `PhaseChanged{FETCHING_MISSING_DOCUMENTS, missingDocuments=<count>}`, publishes the `FETCH_MISSING_DOCUMENTS`
 * commands (batch 1..N of `batches = N`, or one command with `batches = 0`), then sets the head's
 * `missingRequestedAt` mark: report before mark, so a crash repeats the request (same command ids) and never
 * loses it.
 */
import { EJSON } from 'bson';
import {
  TidemarkError,
  compareOpTime,
  describeError,
  isRetriable,
  formatOpTime,
  headDatabaseName,
  headNamespace,
  maxOpTime,
  phaseReport,
  type PhaseReporter,
  type HeadCatalog,
  type HeadRegistry,
  type OpTime,
  type OplogStore,
  type Phase,
} from '@tidemark/domain';
import {
  DEFAULT_MISSING_BATCH_LIMITS,
  idsArrayText,
  missingBatches,
  type MissingBatchLimits,
} from './missing-batches';
import type {
  ApplyJob,
  ApplyTargetFactory,
  CommandPublisher,
  EntryApplier,
  EntryApplierFactory,
  MissingDocumentStore,
  SlicePayloadDecoder,
} from './ports';
import { openSliceEntries } from './slice-entries';

/** The stage these phase reports come from. */
const STAGE = 'oplog-applier';

export interface ApplyLoopPorts {
  readonly store: OplogStore;
  readonly registry: HeadRegistry;
  readonly targets: ApplyTargetFactory;
  readonly appliers: EntryApplierFactory;
  readonly decode: SlicePayloadDecoder;
  readonly missing: MissingDocumentStore;
  readonly phases: PhaseReporter;
  readonly commands: CommandPublisher;
}

export interface ApplyLoopOptions {
  /** Slices applied per turn at most (`TIDEMARK_APPLY_MAX_SLICES_PER_TURN`). Default 20. */
  readonly maxSlicesPerTurn?: number;
  /** Least time between two progress reports of one job. Default 1000 ms. */
  readonly progressIntervalMs?: number;
  /** Check that every entry encodes back to its own bytes. Default true. */
  readonly verifyRoundTrip?: boolean;
  readonly missingBatchLimits?: MissingBatchLimits;
  /** Milliseconds now (progress throttling only; positions are never wall-clock). */
  readonly clock?: () => number;
}

/** Checks, before each write, that the job's lease is still held; throws `LeaseLostError` otherwise. */
export interface LeaseGuard {
  check(): void;
}

const NO_GUARD: LeaseGuard = { check: () => undefined };

export const DEFAULT_MAX_SLICES_PER_TURN = 20;
export const DEFAULT_PROGRESS_INTERVAL_MS = 1000;

/** Why a turn ended. */
export type ApplyStop =
  /** The head record (the transfer's catalog) is not there yet. */
  | 'no-head'
  /** Every stored slice is applied; waiting for new ones. */
  | 'caught-up'
  /** Slices are stored beyond the position but none continues it: waiting for the missing range. */
  | 'gap'
  /** `maxSlicesPerTurn` reached with more to apply. */
  | 'turn-cap';

export interface ApplyTurn {
  readonly jobId: string;
  readonly syncId: string;
  readonly stop: ApplyStop;
  /** Stored position before and after the turn (undefined without a head). */
  readonly from: OpTime | undefined;
  readonly appliedTs: OpTime | undefined;
  readonly slices: number;
  readonly entries: number;
  /** Missing documents recorded during the turn. */
  readonly missingRecorded: number;
  /** Set when this turn requested the missing documents. */
  readonly missingRequested?: { readonly documents: number; readonly batches: number };
  /** True when the turn stopped at the cap: call again soon. */
  readonly morePending: boolean;
}

/**
 * A turn failed: which job, and the position stored when it did (the alert names it). `cause` is the failure;
 * retriable exactly when it is (callers with driver tables classify `cause` themselves).
 */
export class ApplyTurnError extends TidemarkError {
  override readonly name: string = 'ApplyTurnError';
  constructor(
    readonly jobId: string,
    readonly syncId: string,
    readonly appliedTs: OpTime | undefined,
    cause: unknown,
  ) {
    super(`job ${jobId} (${syncId}): apply failed: ${describeError(cause)}`, {
      retriable: isRetriable(cause),
      cause,
    });
  }
}

/** Phases in which the head is applied and the missing documents may still have to be requested. */
const REQUEST_PHASES: readonly Phase[] = ['applying-oplogs', 'fetching-missing-documents'];

/** The position just before `ts`: restarting "after" it re-reads the entry at `ts`. */
function justBefore(ts: OpTime): OpTime {
  if (ts.i > 0) return { t: ts.t, i: ts.i - 1 };
  return ts.t > 0 ? { t: ts.t - 1, i: 0xffff_ffff } : ts;
}

/** Maps a source namespace (`db.coll`, or `db` alone for dropDatabase) into the sync's head. */
export function headMapping(jobId: string, syncNo: number): (sourceNs: string) => string {
  return (ns) => (ns.includes('.') ? headNamespace(jobId, syncNo, ns) : headDatabaseName(jobId, syncNo, ns));
}

interface Progress {
  lastAt: number;
  /** A position stored since the last report. */
  pending: boolean;
}

/** The state of one turn. */
interface Turn {
  readonly job: ApplyJob;
  readonly applier: EntryApplier;
  readonly guard: LeaseGuard;
  /** Shared with `applyPending`, which names the stored position when the turn fails. */
  readonly state: { persisted: OpTime | undefined };
  /** Durable position. */
  persisted: OpTime;
  /** Last entry applied in memory (ahead of `persisted` while a transaction is open). */
  cursor: OpTime;
  missingRecorded: number;
}

export class ApplyLoop {
  private readonly maxSlices: number;
  private readonly progressIntervalMs: number;
  private readonly verifyRoundTrip: boolean;
  private readonly batchLimits: MissingBatchLimits;
  private readonly clock: () => number;
  private readonly progress = new Map<string, Progress>();

  constructor(
    private readonly ports: ApplyLoopPorts,
    options: ApplyLoopOptions = {},
  ) {
    this.maxSlices = options.maxSlicesPerTurn ?? DEFAULT_MAX_SLICES_PER_TURN;
    if (!Number.isSafeInteger(this.maxSlices) || this.maxSlices < 1) {
      throw new RangeError(`maxSlicesPerTurn must be an integer >= 1, got ${this.maxSlices}`);
    }
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.verifyRoundTrip = options.verifyRoundTrip ?? true;
    this.batchLimits = options.missingBatchLimits ?? DEFAULT_MISSING_BATCH_LIMITS;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * One bounded turn for `job` (see the module comment). Failures reject with {@link ApplyTurnError} wrapping the
   * cause; the position stored until then stays (everything before it is applied).
   */
  async applyPending(job: ApplyJob, guard: LeaseGuard = NO_GUARD): Promise<ApplyTurn> {
    const state: { persisted: OpTime | undefined } = { persisted: undefined };
    try {
      return await this.turn(job, guard, state);
    } catch (err) {
      throw new ApplyTurnError(job.jobId, job.syncId, state.persisted, err);
    }
  }

  private async turn(
    job: ApplyJob,
    guard: LeaseGuard,
    state: { persisted: OpTime | undefined },
  ): Promise<ApplyTurn> {
    const { store, registry } = this.ports;
    const head = await registry.get(job.jobId, job.syncId);
    const scan = head?.scan;
    if (scan === undefined || head?.appliedTs === undefined) {
      return this.result(job, 'no-head', undefined, undefined, 0, 0, 0);
    }
    const from = head.appliedTs;
    state.persisted = from;
    const turn: Turn = {
      job,
      applier: this.ports.appliers(this.ports.targets(job), {
        mapNamespace: headMapping(job.jobId, job.syncNo),
      }),
      guard,
      state,
      persisted: from,
      cursor: from,
      missingRecorded: 0,
    };
    let requested = head.missingRequestedAt !== undefined;
    let missingRequested: ApplyTurn['missingRequested'];
    const request = async (): Promise<void> => {
      if (requested || !REQUEST_PHASES.includes(job.phase) || compareOpTime(turn.persisted, scan.endTs) < 0)
        return;
      missingRequested = await this.requestMissingDocuments(job, scan, turn.persisted);
      requested = true;
    };

    await request();
    let slices = 0;
    let entries = 0;
    let stop: ApplyStop;
    for (;;) {
      if (slices >= this.maxSlices && turn.applier.resumeFrom() === undefined) {
        stop = 'turn-cap';
        break;
      }
      guard.check();
      const meta = await store.findCovering(job.jobId, job.syncId, turn.cursor);
      const stored = meta === undefined ? undefined : await store.get(meta.sliceId);
      if (meta === undefined || stored === undefined || stored.meta.kind !== 'oplog') {
        const latest = await store.latestOplogTs(job.jobId, job.syncId);
        stop = latest !== undefined && compareOpTime(latest, turn.cursor) > 0 ? 'gap' : 'caught-up';
        break;
      }
      const sliceMeta = stored.meta;
      const sliceEntries = openSliceEntries(this.ports.decode(stored.payload, sliceMeta), sliceMeta, {
        verifyRoundTrip: this.verifyRoundTrip,
      });
      for (const entry of sliceEntries) {
        if (compareOpTime(entry.ts, turn.cursor) <= 0) continue; // applied before (overlapping ranges)
        await turn.applier.applyEntry(entry.doc);
        turn.cursor = entry.ts;
        entries += 1;
        if (entry.op === 'c') await this.persist(turn, entry.ts);
      }
      // The range is complete: nothing of the job lies between the last entry and lastTs.
      turn.cursor = maxOpTime(turn.cursor, sliceMeta.lastTs);
      await this.persist(turn, sliceMeta.lastTs);
      slices += 1;
      await request();
    }
    // Missing documents of entries past the stored position (an open transaction) are recorded too.
    await this.recordMissing(turn);
    const advanced = compareOpTime(turn.persisted, from) > 0;
    await this.reportProgress(job, turn.persisted, requested, advanced);
    return {
      ...this.result(job, stop, from, turn.persisted, slices, entries, turn.missingRecorded),
      ...(missingRequested === undefined ? {} : { missingRequested }),
    };
  }

  /** Forgets the progress throttle of a job (when the scheduler stops serving it). */
  forget(jobId: string): void {
    for (const key of this.progress.keys()) if (key.startsWith(`${jobId}/`)) this.progress.delete(key);
  }

  /**
   * Stores the position `ts` (never past an open transaction's first entry, never backwards), after recording the
   * missing documents found so far.
   */
  private async persist(turn: Turn, ts: OpTime): Promise<void> {
    const open = turn.applier.resumeFrom();
    const target = open !== undefined && compareOpTime(justBefore(open), ts) < 0 ? justBefore(open) : ts;
    if (compareOpTime(target, turn.persisted) <= 0) return;
    await this.recordMissing(turn);
    turn.guard.check();
    turn.persisted = await this.ports.registry.setAppliedTs(turn.job.jobId, turn.job.syncId, target);
    turn.state.persisted = turn.persisted;
  }

  private async recordMissing(turn: Turn): Promise<void> {
    const found = turn.applier.takeMissingDocuments();
    if (found.length === 0) return;
    await this.ports.missing.record(
      turn.job.jobId,
      turn.job.syncId,
      found.map((doc) => ({
        sourceNs: doc.sourceNs,
        targetNs: doc.targetNs,
        id: EJSON.stringify(doc.id, { relaxed: false }),
        ts: doc.ts,
      })),
    );
    turn.missingRecorded += found.length;
  }

  private async requestMissingDocuments(
    job: ApplyJob,
    scan: HeadCatalog,
    appliedTs: OpTime,
  ): Promise<{ documents: number; batches: number }> {
    const { missing, commands, phases, registry, store } = this.ports;
    const documents = await missing.count(job.jobId, job.syncId);
    let batches = 0;
    for await (const _batch of missingBatches(missing, job.jobId, job.syncId, this.batchLimits)) batches += 1;
    const sourceTs = await store.latestOplogTs(job.jobId, job.syncId);
    await phases.report(
      phaseReport(STAGE, {
        jobId: job.jobId,
        syncId: job.syncId,
        phase: 'fetching-missing-documents',
        appliedTs,
        ...(sourceTs === undefined ? {} : { sourceTs }),
        details: {
          missingDocuments: String(documents),
          batches: String(batches),
          endTs: formatOpTime(scan.endTs).replace(':', '.'),
        },
      }),
    );
    const commandId = (batch: number) => `${job.syncId}:fetch-missing:${batch}/${batches}`;
    if (batches === 0) {
      await commands.fetchMissingDocuments({
        commandId: commandId(0),
        jobId: job.jobId,
        syncId: job.syncId,
        batch: 0,
        batches: 0,
        ns: '',
        ids: '[]',
      });
    } else {
      let batch = 0;
      for await (const { ns, ids } of missingBatches(missing, job.jobId, job.syncId, this.batchLimits)) {
        batch += 1;
        await commands.fetchMissingDocuments({
          commandId: commandId(batch),
          jobId: job.jobId,
          syncId: job.syncId,
          batch,
          batches,
          ns,
          ids: idsArrayText(ids),
        });
      }
    }
    await registry.mark(job.jobId, job.syncId, 'missingRequestedAt');
    this.progressOf(job).lastAt = this.clock();
    return { documents, batches };
  }

  /** Reports the applied position when it moved (or a throttled report is still owed), at most once per interval. */
  private async reportProgress(job: ApplyJob, appliedTs: OpTime, requested: boolean, advanced: boolean) {
    const progress = this.progressOf(job);
    if (advanced) progress.pending = true;
    const now = this.clock();
    if (!progress.pending || now - progress.lastAt < this.progressIntervalMs) return;
    const phase: Phase =
      requested && job.phase === 'applying-oplogs' ? 'fetching-missing-documents' : job.phase;
    const sourceTs = await this.ports.store.latestOplogTs(job.jobId, job.syncId);
    await this.ports.phases.report(
      phaseReport(STAGE, {
        jobId: job.jobId,
        syncId: job.syncId,
        phase,
        appliedTs,
        ...(sourceTs === undefined ? {} : { sourceTs }),
      }),
    );
    progress.lastAt = now;
    progress.pending = false;
  }

  private progressOf(job: ApplyJob): Progress {
    const key = `${job.jobId}/${job.syncId}`;
    let progress = this.progress.get(key);
    if (progress === undefined) {
      progress = { lastAt: Number.NEGATIVE_INFINITY, pending: false };
      this.progress.set(key, progress);
    }
    return progress;
  }

  private result(
    job: ApplyJob,
    stop: ApplyStop,
    from: OpTime | undefined,
    appliedTs: OpTime | undefined,
    slices: number,
    entries: number,
    missingRecorded: number,
  ): ApplyTurn {
    return {
      jobId: job.jobId,
      syncId: job.syncId,
      stop,
      from,
      appliedTs,
      slices,
      entries,
      missingRecorded,
      morePending: stop === 'turn-cap',
    };
  }
}
