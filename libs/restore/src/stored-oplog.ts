/**
 * A job's stored oplog, entry by entry, from a position on: the oplog store's slices followed along their chain
 * (`findCovering`, as the head's apply loop does), each slice's payload checked (`decode`) and its entries checked
 * and decoded (`open`: order, range, byte-for-byte) before any is handed out.
 */
import {
  TidemarkError,
  compareOpTime,
  formatOpTime,
  maxOpTime,
  type OpTime,
  type OplogSliceMeta,
  type OplogStore,
} from '@tidemark/domain';

/** One stored oplog entry, decoded. */
export interface StoredOplogEntry {
  readonly ts: OpTime;
  readonly op: string;
  /** The whole entry (BSON wrapper values), as the applier takes it. */
  readonly doc: Record<string, unknown>;
}

export interface StoredOplogPorts {
  readonly store: OplogStore;
  /** `decodeSlicePayload` of `@tidemark/slices` with the slice limits: the entries' raw BSON. */
  readonly decode: (payload: Buffer, meta: OplogSliceMeta) => Buffer[];
  /** `openSliceEntries` of `@tidemark/head-database`: the entries checked and decoded. */
  readonly open: (raw: readonly Buffer[], meta: OplogSliceMeta) => readonly StoredOplogEntry[];
}

/** The stored oplog has a hole between two positions: a restore cannot cross it. Not retriable. */
export class StoredOplogGapError extends TidemarkError {
  override readonly name: string = 'StoredOplogGapError';
  constructor(
    readonly jobId: string,
    readonly syncId: string,
    readonly from: OpTime,
    readonly newest: OpTime,
  ) {
    super(
      `job ${jobId} (${syncId}): no stored oplog slice continues from ${formatOpTime(from)}, though entries up to ` +
        `${formatOpTime(newest)} are stored: the oplog store has a gap, and no restore can cross it`,
      { retriable: false },
    );
  }
}

/**
 * The stored entries of the sync after `after`, in order, until the stored chain ends. A chain that ends before the
 * newest stored position throws {@link StoredOplogGapError}.
 */
export async function* storedOplogEntries(
  ports: StoredOplogPorts,
  jobId: string,
  syncId: string,
  after: OpTime,
): AsyncGenerator<StoredOplogEntry> {
  let cursor = after;
  for (;;) {
    const meta = await ports.store.findCovering(jobId, syncId, cursor);
    const stored = meta === undefined ? undefined : await ports.store.get(meta.sliceId);
    if (meta === undefined || stored === undefined || stored.meta.kind !== 'oplog') {
      const newest = await ports.store.latestOplogTs(jobId, syncId);
      if (newest !== undefined && compareOpTime(newest, cursor) > 0) {
        throw new StoredOplogGapError(jobId, syncId, cursor, newest);
      }
      return;
    }
    const sliceMeta = stored.meta;
    for (const entry of ports.open(ports.decode(stored.payload, sliceMeta), sliceMeta)) {
      if (compareOpTime(entry.ts, cursor) <= 0) continue; // overlapping ranges: handed out before
      yield entry;
      cursor = entry.ts;
    }
    cursor = maxOpTime(cursor, sliceMeta.lastTs);
  }
}
