/**
 * The *fetching missing documents* phase on the agent's side (docs/pipeline.md, step 6): each
 * FETCH_MISSING_DOCUMENTS batch reads its documents by `_id` from the source as raw BSON into initial-sync slices
 * of origin `missing`; after the last batch (`batch == batches`, or `batches == 0`) the catalog slice
 * `<syncId>:c:missing` lists, per namespace, the slice and document counts of all batches.
 *
 * Restarts. Counts live in this process' memory, per (job, sync) and per batch number, so a redelivered batch
 * replaces its own counts instead of adding to them, and its slices get the same ids
 * (`<syncId>:i:<ns>:m<batch>.<k>`): redoing a batch is idempotent. The catalog needs the counts of every batch,
 * so the agent app commits the offsets of a fetch's commands only when its catalog is published (see
 * `CommitFloor`): after a restart Kafka redelivers every batch of the unfinished fetch and the counts are rebuilt.
 * If the last batch still finds batches missing from memory, {@link MissingFetchIncompleteError} is thrown rather
 * than publishing a catalog with wrong counts.
 *
 * The catalog's `startTs` is the newest oplog position when the first batch (of this process) was read, `endTs`
 * the newest position after the last: the fetched documents are at least as new as `startTs`, and applying the
 * oplog past `endTs` makes them consistent.
 */
import { formatOpTime, MIN_OP_TIME, TidemarkError, type OpTime } from '@tidemark/domain';
import { encodeCatalog, encodeSlicePayload, Slicer, type CatalogNamespace } from '@tidemark/slices';
import type { AgentSettings } from './agent-settings';
import { silentLogger, type AgentLogger, type SlicePublisher, type SourceReader } from './ports';
import { catalogSliceMeta, initialSliceMeta } from './slice-meta';
import { catalogSliceId, missingSliceId, missingSliceSequence } from './slice-ids';

/** One FETCH_MISSING_DOCUMENTS command. */
export interface FetchMissingBatch {
  readonly jobId: string;
  readonly syncId: string;
  /** 1-based; ignored when `batches` is 0. */
  readonly batch: number;
  /** Batches of this fetch in all; 0 = no document is missing. */
  readonly batches: number;
  /** `db.collection` of the ids (absent when `batches` is 0). */
  readonly ns: string | undefined;
  /** `_id` values, at most 1000. */
  readonly ids: readonly unknown[];
}

/** The last batch arrived but this process has not seen some earlier batch. Not retriable. */
export class MissingFetchIncompleteError extends TidemarkError {
  override readonly name: string = 'MissingFetchIncompleteError';
  readonly missingBatches: readonly number[];

  constructor(jobId: string, syncId: string, missingBatches: readonly number[]) {
    super(
      `job ${jobId} sync ${syncId}: cannot publish the missing-documents catalog: batches ` +
        `${missingBatches.join(', ')} were not fetched by this process`,
      { retriable: false },
    );
    this.missingBatches = missingBatches;
  }
}

/** Counts of one namespace in one batch. */
interface NsCounts {
  slices: number;
  docs: number;
}

interface FetchState {
  startTs: OpTime;
  readonly batches: Map<number, Map<string, NsCounts>>;
}

export interface MissingFetchDeps {
  readonly publisher: SlicePublisher;
  readonly settings: AgentSettings;
  readonly logger?: AgentLogger;
}

export class MissingFetch {
  private readonly fetches = new Map<string, FetchState>();

  constructor(private readonly deps: MissingFetchDeps) {}

  /**
   * Carries out one batch; resolves once its slices (and, for the last batch, the catalog) are acknowledged.
   * Throws `RangeError` for an impossible batch, {@link MissingFetchIncompleteError} (see the module comment).
   */
  async run(command: FetchMissingBatch, source: SourceReader): Promise<{ catalogPublished: boolean }> {
    const key = `${command.jobId}/${command.syncId}`;
    if (command.batches === 0) {
      const now = (await source.latestOplogTs()) ?? MIN_OP_TIME;
      await this.publishCatalog(command, now, now, []);
      this.fetches.delete(key);
      return { catalogPublished: true };
    }
    const { batch, batches, ns } = command;
    if (!Number.isSafeInteger(batch) || !Number.isSafeInteger(batches) || batch < 1 || batch > batches) {
      throw new RangeError(`FETCH_MISSING_DOCUMENTS batch ${batch} of ${batches} is not a batch`);
    }
    if (ns === undefined || ns === '')
      throw new RangeError(`FETCH_MISSING_DOCUMENTS batch ${batch} names no namespace`);
    let state = this.fetches.get(key);
    if (state === undefined) {
      state = { startTs: (await source.latestOplogTs()) ?? MIN_OP_TIME, batches: new Map() };
      this.fetches.set(key, state);
    }
    state.batches.set(batch, new Map([[ns, await this.fetchBatch(command, ns, source)]]));
    if (batch < batches) return { catalogPublished: false };

    const missing: number[] = [];
    for (let b = 1; b <= batches; b++) if (!state.batches.has(b)) missing.push(b);
    if (missing.length > 0) throw new MissingFetchIncompleteError(command.jobId, command.syncId, missing);
    const totals = new Map<string, NsCounts>();
    for (const perNs of state.batches.values()) {
      for (const [name, c] of perNs) {
        const t = totals.get(name) ?? { slices: 0, docs: 0 };
        t.slices += c.slices;
        t.docs += c.docs;
        totals.set(name, t);
      }
    }
    const endTs = (await source.latestOplogTs()) ?? state.startTs;
    const namespaces = [...totals]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, c]): CatalogNamespace => ({ ns: name, sliceCount: c.slices, docCount: c.docs }));
    await this.publishCatalog(command, state.startTs, endTs, namespaces);
    this.fetches.delete(key);
    return { catalogPublished: true };
  }

  private async fetchBatch(command: FetchMissingBatch, ns: string, source: SourceReader): Promise<NsCounts> {
    const { publisher, settings } = this.deps;
    const slicer = new Slicer({
      codec: settings.codec,
      targetSliceBytes: settings.sliceTargetBytes,
      maxSliceBytes: settings.maxSliceBytes,
    });
    const counts: NsCounts = { slices: 0, docs: 0 };
    const publish = async (payload: ReturnType<typeof encodeSlicePayload>): Promise<void> => {
      const sliceId = missingSliceId(command.syncId, ns, command.batch, counts.slices);
      const sequence = missingSliceSequence(command.batch, counts.slices);
      await publisher.publishSlice(
        initialSliceMeta(command, { sliceId, sequence, ns, origin: 'missing' }, payload),
        payload.payload,
      );
      counts.slices += 1;
      counts.docs += payload.docCount;
    };
    for await (const doc of source.fetchByIds(ns, command.ids)) {
      for (const payload of slicer.add(doc)) await publish(payload);
    }
    for (const payload of slicer.flush()) await publish(payload);
    (this.deps.logger ?? silentLogger).event({
      event: 'missing-batch-fetched',
      jobId: command.jobId,
      syncId: command.syncId,
      batch: command.batch,
      batches: command.batches,
      ns,
      requested: command.ids.length,
      found: counts.docs,
      slices: counts.slices,
    });
    return counts;
  }

  private async publishCatalog(
    command: FetchMissingBatch,
    startTs: OpTime,
    endTs: OpTime,
    namespaces: CatalogNamespace[],
  ): Promise<void> {
    const payload = encodeSlicePayload(
      encodeCatalog({ origin: 'missing', startTs, endTs, namespaces }),
      this.deps.settings.codec,
    );
    await this.deps.publisher.publishSlice(
      catalogSliceMeta(
        command,
        { sliceId: catalogSliceId(command.syncId, 'missing'), origin: 'missing' },
        payload,
      ),
      payload.payload,
    );
    (this.deps.logger ?? silentLogger).event({
      event: 'missing-catalog-published',
      jobId: command.jobId,
      syncId: command.syncId,
      namespaces: namespaces.length,
      startTs: formatOpTime(startTs),
      endTs: formatOpTime(endTs),
    });
  }
}
