/**
 * The oplog shipper: reads a job's oplog tail and publishes oplog slices back to back.
 *
 * Contract:
 * - Slice `k + 1` starts where slice `k` ended (`prevTs` = previous `lastTs`); the first starts at the `prevTs` the
 *   shipper was given. Each covers a complete range: every selected entry with `prevTs < ts <= lastTs`.
 * - A slice is cut when its compressed size reaches the target (`Slicer`), or `oplogFlushMs` after its range first
 *   advanced. A range that advanced only over other namespaces' entries is shipped as an empty slice (so the job's
 *   lag can reach zero); when nothing at all happened, nothing is shipped.
 * - Back-pressure: the tail feeds a `ByteBoundedQueue` (bounded in batches and bytes) that this loop drains; a
 *   slice is published (acknowledged by Kafka) before the next is cut, so the tail waits while Kafka is slow.
 * - `run` ends when the signal aborts (resolves) or the tail or a publish fails (rejects with that error; what was
 *   read but not acknowledged is dropped and read again by the next tail from {@link OplogShipper.shippedTs}).
 */
import { isAfter, maxOpTime, type NamespaceFilters, type OpTime } from '@tidemark/domain';
import { encodeSlicePayload, Slicer, type EncodedPayload } from '@tidemark/slices';
import { abortReason, ByteBoundedQueue } from '@tidemark/util';
import type { AgentSettings } from './agent-settings';
import type { Clock, OplogBatch, SlicePublisher, SourceReader } from './ports';
import { systemClock } from './ports';
import { oplogSliceMeta } from './slice-meta';
import { oplogSliceId } from './slice-ids';
import type { SyncJob } from './sync-job';

export interface OplogShipperDeps {
  readonly publisher: SlicePublisher;
  readonly settings: AgentSettings;
  readonly clock?: Clock;
}

/** Fixed cost counted per queued batch besides its entries' bytes. */
const BATCH_OVERHEAD_BYTES = 64;
const TIMED_OUT = Symbol('timed out');

export class OplogShipper {
  private shipped: OpTime;
  private newest: OpTime;
  private sequence = 0;
  private readonly clock: Clock;

  constructor(
    private readonly deps: OplogShipperDeps,
    private readonly job: Pick<SyncJob, 'jobId' | 'syncId'>,
    /** Exclusive start of the first slice. */
    prevTs: OpTime,
  ) {
    this.shipped = prevTs;
    this.newest = prevTs;
    this.clock = deps.clock ?? systemClock;
  }

  /** `lastTs` of the last slice Kafka acknowledged (the `prevTs` given before the first). */
  get shippedTs(): OpTime {
    return this.shipped;
  }

  /** Newest source oplog position the tail reported. */
  get sourceTs(): OpTime {
    return this.newest;
  }

  /** Slices published so far. */
  get slicesShipped(): number {
    return this.sequence;
  }

  /** Tails `source` from {@link shippedTs} and ships until aborted or failed (see the module comment). */
  async run(source: SourceReader, filters: NamespaceFilters, signal: AbortSignal): Promise<void> {
    const { settings } = this.deps;
    const inner = new AbortController();
    const onAbort = (): void => inner.abort(abortReason(signal));
    if (signal.aborted) return;
    signal.addEventListener('abort', onAbort, { once: true });
    const queue = new ByteBoundedQueue<OplogBatch>({
      maxItems: settings.oplogQueueBatches,
      maxBytes: settings.oplogQueueBytes,
      sizeOf: (b) => b.entries.reduce((n, e) => n + e.raw.length, BATCH_OVERHEAD_BYTES),
    });
    const reader = (async () => {
      try {
        for await (const batch of source.tail(this.job.jobId, this.shipped, filters, inner.signal)) {
          await queue.put(batch, inner.signal);
        }
        queue.close();
      } catch (err) {
        queue.fail(err);
      }
    })();
    try {
      await this.ship(queue, inner.signal);
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      inner.abort(new Error('oplog shipper stopped'));
      await reader;
    }
  }

  private async ship(queue: ByteBoundedQueue<OplogBatch>, signal: AbortSignal): Promise<void> {
    const { settings } = this.deps;
    const slicer = new Slicer({
      codec: settings.codec,
      targetSliceBytes: settings.sliceTargetBytes,
      maxSliceBytes: settings.maxSliceBytes,
    });
    /** `ts` of each entry in the slicer, oldest first. */
    const pending: OpTime[] = [];
    /** Everything up to here has been read from the tail (shipped or pending). */
    let readTs = this.shipped;
    /** When the open range (after `shipped`) first advanced; undefined when nothing is open. */
    let openedAt: number | undefined;

    const publishCut = async (payload: EncodedPayload, lastTs: OpTime): Promise<void> => {
      const prevTs = this.shipped;
      const firstTs = payload.docCount > 0 ? pending[0] : undefined;
      pending.splice(0, payload.docCount);
      const meta = oplogSliceMeta(
        this.job,
        {
          sliceId: oplogSliceId(this.job.syncId, prevTs, lastTs),
          sequence: this.sequence,
          prevTs,
          firstTs,
          lastTs,
        },
        payload,
      );
      await this.deps.publisher.publishSlice(meta, payload.payload);
      this.sequence += 1;
      this.shipped = lastTs;
    };
    /** Publishes slices the slicer cut on size: each ends at its own last entry. */
    const publishSized = async (payloads: EncodedPayload[]): Promise<void> => {
      for (const payload of payloads) await publishCut(payload, pending[payload.docCount - 1]!);
    };
    /** Ships everything read: the last slice ends at `readTs`, covering trailing entries of other namespaces. */
    const flush = async (): Promise<void> => {
      const payloads = slicer.flush();
      if (payloads.length === 0) {
        if (isAfter(readTs, this.shipped)) await publishCut(encodeSlicePayload([], settings.codec), readTs);
      } else {
        await publishSized(payloads.slice(0, -1));
        await publishCut(payloads[payloads.length - 1]!, readTs);
      }
      openedAt = undefined;
    };

    for (;;) {
      const waitMs =
        openedAt === undefined ? undefined : Math.max(0, openedAt + settings.oplogFlushMs - this.clock.now());
      const batches = await drainWithin(queue, waitMs, signal);
      if (batches === undefined) return; // the tail ended
      for (const batch of batches) {
        this.newest = maxOpTime(this.newest, batch.sourceTs, batch.lastTs);
        for (const entry of batch.entries) {
          pending.push(entry.ts);
          await publishSized(slicer.add(entry.raw));
        }
        if (isAfter(batch.lastTs, readTs)) {
          readTs = batch.lastTs;
          openedAt ??= this.clock.now();
        }
      }
      if (pending.length === 0 && !isAfter(readTs, this.shipped)) openedAt = undefined;
      if (openedAt !== undefined && this.clock.now() - openedAt >= settings.oplogFlushMs) await flush();
    }
  }
}

/**
 * Queued batches, waiting at most `waitMs` (forever when undefined): `[]` when the time ran out, undefined when
 * the queue ended. Rejects with the tail's failure or the signal's reason.
 */
async function drainWithin(
  queue: ByteBoundedQueue<OplogBatch>,
  waitMs: number | undefined,
  signal: AbortSignal,
): Promise<OplogBatch[] | undefined> {
  if (signal.aborted) throw abortReason(signal);
  if (waitMs === undefined) {
    const batches = await queue.drain(Infinity, Infinity, signal);
    return batches.length === 0 ? undefined : batches;
  }
  const wait = new AbortController();
  const timer = setTimeout(() => wait.abort(TIMED_OUT), waitMs);
  const onAbort = (): void => wait.abort(abortReason(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const batches = await queue.drain(Infinity, Infinity, wait.signal);
    return batches.length === 0 ? undefined : batches;
  } catch (err) {
    if (err === TIMED_OUT) return [];
    throw err;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
