/**
 * The initial sync of one job (docs/pipeline.md, "Initial sync", step 2):
 *
 * 1. `startTs` = the newest source oplog position (0:0 for an empty oplog); the server version and feature
 *    compatibility version are read; `PhaseChanged{TRANSFERRING}` is published with them and `startTs`.
 * 2. The oplog tail starts from `startTs` ({@link TailKeeper}), in parallel with:
 * 3. the scan of every selected namespace, `scanConcurrency` at a time, each through its own `Slicer` into
 *    initial-sync slices `<syncId>:i:<ns>:<sequence>` (an empty collection still gets one slice with no documents),
 *    each published (acknowledged by Kafka) before the scan reads on; progress is reported at most once per
 *    `progressIntervalMs`.
 * 4. Once every slice is acknowledged: `endTs` = the newest oplog position again, a last progress report, then the
 *    catalog slice `<syncId>:c:scan` listing every namespace with its options, indexes, slice and document counts.
 *
 * The tail keeps running after the transfer; the caller owns it through the returned `tail` and the signal.
 */
import { MIN_OP_TIME, phaseReport, type OpTime, type StageMetrics } from '@tidemark/domain';
import {
  encodeCatalog,
  encodeSlicePayload,
  Slicer,
  type CatalogNamespace,
  type EncodedPayload,
} from '@tidemark/slices';
import type { AgentSettings } from './agent-settings';
import { forEachBounded } from './bounded-pool';
import {
  silentLogger,
  systemClock,
  type AgentLogger,
  type Clock,
  type SlicePublisher,
  type SourceFacts,
  type SourceNamespaceInfo,
  type SourceReader,
} from './ports';
import { catalogSliceMeta, initialSliceMeta } from '@tidemark/slices';
import { catalogSliceId, formatSliceTs, initialSliceId } from '@tidemark/slices';
import type { SyncJob } from './sync-job';
import { TailKeeper, type RunningTail } from './tail-keeper';
import { ReportThrottle, TransferProgress } from './transfer-progress';

/** The stage the agent's phase reports come from. */
const STAGE = 'agent';

export interface InitialSyncDeps {
  readonly source: SourceReader;
  readonly publisher: SlicePublisher;
  readonly settings: AgentSettings;
  readonly clock?: Clock;
  readonly logger?: AgentLogger;
  readonly newId?: () => string;
  /** Counts the tail's failures by error class (passed on to its `TailKeeper`). */
  readonly metrics?: Pick<StageMetrics, 'failure'>;
}

/** What a finished transfer delivered. */
export interface TransferResult {
  readonly startTs: OpTime;
  readonly endTs: OpTime;
  readonly namespaces: readonly CatalogNamespace[];
  /** Documents and raw bytes delivered in initial-sync slices, and how long the scan took. */
  readonly docs: number;
  readonly bytes: number;
  readonly scanMs: number;
}

/** An initial sync whose transfer has begun (TRANSFERRING published, tail running). */
export interface StartedSync {
  readonly startTs: OpTime;
  readonly facts: SourceFacts;
  readonly tail: RunningTail;
  /** Settles when the catalog slice is acknowledged (or the transfer failed). */
  readonly transfer: Promise<TransferResult>;
}

export class InitialSync {
  private readonly clock: Clock;
  private readonly logger: AgentLogger;

  constructor(private readonly deps: InitialSyncDeps) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
  }

  /** Runs the whole transfer; resolves when the catalog slice is acknowledged. The tail keeps running. */
  async run(job: SyncJob, signal: AbortSignal): Promise<TransferResult & { readonly tail: RunningTail }> {
    const started = await this.start(job, signal);
    return { ...(await started.transfer), tail: started.tail };
  }

  /**
   * Steps 1 and 2; resolves once `PhaseChanged{TRANSFERRING}` is acknowledged and the tail runs, with the
   * transfer (steps 3 and 4) under way in `transfer`. Rejects when step 1 fails (nothing has started then).
   */
  async start(job: SyncJob, signal: AbortSignal): Promise<StartedSync> {
    const { source, publisher } = this.deps;
    const facts = await source.info();
    const startTs = (await source.latestOplogTs()) ?? MIN_OP_TIME;
    const details = {
      startTs: formatSliceTs(startTs),
      serverVersion: facts.serverVersion,
      featureCompatibilityVersion: facts.featureCompatibilityVersion,
    };
    await publisher.publishPhase(
      phaseReport(STAGE, {
        jobId: job.jobId,
        syncId: job.syncId,
        phase: 'transferring',
        sourceTs: startTs,
        details,
      }),
    );
    this.logger.event({ event: 'transfer-started', jobId: job.jobId, syncId: job.syncId, ...details });
    const tail = new TailKeeper(this.deps).start(job, startTs, signal);
    const transfer = this.transfer(job, startTs, facts, details, tail, signal);
    // The caller may look at `transfer` later; never let its rejection go unhandled meanwhile.
    transfer.catch(() => undefined);
    return { startTs, facts, tail, transfer };
  }

  private async transfer(
    job: SyncJob,
    startTs: OpTime,
    facts: SourceFacts,
    details: Record<string, string>,
    tail: RunningTail,
    signal: AbortSignal,
  ): Promise<TransferResult> {
    const { source, publisher, settings } = this.deps;
    const began = this.clock.now();
    const namespaces = await source.listNamespaces(job.filters);
    const progress = new TransferProgress(namespaces);
    const throttle = new ReportThrottle(settings.progressIntervalMs, this.clock);
    const report = (extra: Record<string, string> = {}) =>
      publisher.publishPhase(
        phaseReport(STAGE, {
          jobId: job.jobId,
          syncId: job.syncId,
          phase: 'transferring',
          progress: progress.report(),
          sourceTs: tail.sourceTs(),
          details: { ...details, ...extra },
        }),
      );
    const results = new Map<string, CatalogNamespace>();
    await forEachBounded(
      namespaces,
      settings.scanConcurrency,
      async (info, scanSignal) => {
        results.set(
          info.ns,
          await this.scanNamespace(job, info, progress, () => throttle.maybe(report), scanSignal),
        );
      },
      signal,
    );
    const scanMs = this.clock.now() - began;
    const endTs = (await source.latestOplogTs()) ?? startTs;
    const totals = progress.report();
    await report({ endTs: formatSliceTs(endTs) });
    const catalogNamespaces = namespaces.map((n) => results.get(n.ns)!);
    const catalog = encodeSlicePayload(
      encodeCatalog({
        origin: 'scan',
        startTs,
        endTs,
        serverVersion: facts.serverVersion,
        featureCompatibilityVersion: facts.featureCompatibilityVersion,
        namespaces: catalogNamespaces,
      }),
      settings.codec,
    );
    await publisher.publishSlice(
      catalogSliceMeta(job, { sliceId: catalogSliceId(job.syncId, 'scan'), origin: 'scan' }, catalog),
      catalog.payload,
    );
    this.logger.event({
      event: 'transfer-completed',
      jobId: job.jobId,
      syncId: job.syncId,
      namespaces: namespaces.length,
      docs: Number(totals.docsCopied),
      bytes: Number(totals.bytesCopied),
      scanMs,
      endTs: formatSliceTs(endTs),
    });
    return {
      startTs,
      endTs,
      namespaces: catalogNamespaces,
      docs: Number(totals.docsCopied),
      bytes: Number(totals.bytesCopied),
      scanMs,
    };
  }

  /** Scans one namespace into slices; resolves with its catalog entry once every slice is acknowledged. */
  private async scanNamespace(
    job: SyncJob,
    info: SourceNamespaceInfo,
    progress: TransferProgress,
    maybeReport: () => Promise<void>,
    signal: AbortSignal,
  ): Promise<CatalogNamespace> {
    const { source, publisher, settings } = this.deps;
    const slicer = new Slicer({
      codec: settings.codec,
      targetSliceBytes: settings.sliceTargetBytes,
      maxSliceBytes: settings.maxSliceBytes,
    });
    let sequence = 0;
    let docCount = 0;
    const publish = async (payload: EncodedPayload): Promise<void> => {
      const sliceId = initialSliceId(job.syncId, info.ns, sequence);
      await publisher.publishSlice(
        initialSliceMeta(job, { sliceId, sequence, ns: info.ns, origin: 'scan' }, payload),
        payload.payload,
      );
      sequence += 1;
      docCount += payload.docCount;
      progress.add(info.ns, payload.docCount, payload.rawBytes);
      await maybeReport();
    };
    for await (const doc of source.scan(info.ns, { signal })) {
      for (const payload of slicer.add(doc)) await publish(payload);
    }
    for (const payload of slicer.flush()) await publish(payload);
    if (sequence === 0) await publish(encodeSlicePayload([], settings.codec)); // the collection exists, empty
    return { ns: info.ns, sliceCount: sequence, docCount, options: info.options, indexes: info.indexes };
  }
}
