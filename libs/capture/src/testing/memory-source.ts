/**
 * An in-memory source deployment implementing the `SourceReader` port for unit specs: collections of raw BSON
 * documents and an oplog that specs append to while the agent runs. The tail follows the port's contract (gap
 * check, complete ranges, idle batches); failures can be injected.
 */
import { BSON, Timestamp, type Document } from 'bson';
import {
  isAfter,
  namespaceSelected,
  opTimeEquals,
  OplogGapError,
  type NamespaceFilters,
  type OpTime,
} from '@tidemark/domain';
import { abortReason, sleep } from '@tidemark/util';
import type { OplogBatch, RawOplogEntry, SourceFacts, SourceNamespaceInfo, SourceReader } from '../ports';

interface MemoryCollection {
  docs: Buffer[];
  options: Document;
  indexes: Document[];
}

interface OplogRow extends RawOplogEntry {
  readonly ns: string;
}

export interface MemorySourceOptions {
  /** How long an idle tail waits before an idle batch, ms. Default 10. */
  idleMs?: number;
  /** Start of the oplog clock. Default { t: 1_700_000_000, i: 0 }. */
  startTs?: OpTime;
}

export class MemorySource implements SourceReader {
  readonly facts: SourceFacts = { serverVersion: '7.0.14', featureCompatibilityVersion: '7.0' };
  private readonly collections = new Map<string, MemoryCollection>();
  private oplog: OplogRow[] = [];
  private clock: OpTime;
  private wake: (() => void)[] = [];
  private readonly idleMs: number;
  /** Called before the scan of a namespace hands out document `index` (to write during a scan). */
  onScanDocument: ((ns: string, index: number) => void | Promise<void>) | undefined;
  /** Failures the next tails throw after handing out this many batches (then removed). */
  private readonly tailFailures: { afterBatches: number; error: unknown }[] = [];
  /** Failure of the next scans (per namespace), thrown after `afterDocs` documents. */
  private readonly scanFailures = new Map<string, { afterDocs: number; error: unknown }>();
  private listFailure: unknown;
  /** Namespaces being scanned now, and the most at once. */
  scansRunning = 0;
  maxScansRunning = 0;
  /** Tails opened, with their start positions. */
  readonly tailsOpened: OpTime[] = [];
  /** Oplog batches the tails handed out. */
  batchesRead = 0;

  constructor(options: MemorySourceOptions = {}) {
    this.idleMs = options.idleMs ?? 10;
    this.clock = options.startTs ?? { t: 1_700_000_000, i: 0 };
  }

  /** Creates (or replaces) a collection with these documents. */
  addCollection(
    ns: string,
    docs: Document[],
    extra: { options?: Document; indexes?: Document[] } = {},
  ): Buffer[] {
    const raw = docs.map((d) => Buffer.from(BSON.serialize(d)));
    this.collections.set(ns, {
      docs: raw,
      options: extra.options ?? {},
      indexes: extra.indexes ?? [{ v: 2, key: { _id: 1 }, name: '_id_' }],
    });
    return raw;
  }

  /** Appends an oplog entry `{ ts, op, ns, o }`; returns it. Wakes waiting tails. */
  append(op: string, ns: string, o: Document, extra: Document = {}): RawOplogEntry {
    this.clock = { t: this.clock.t, i: this.clock.i + 1 };
    const ts = this.clock;
    const raw = Buffer.from(BSON.serialize({ ts: new Timestamp({ t: ts.t, i: ts.i }), op, ns, o, ...extra }));
    this.oplog.push({ ts, raw, ns });
    for (const wake of this.wake.splice(0)) wake();
    return { ts, raw };
  }

  /** Drops every oplog entry before `ts` (the capped oplog rolled over). */
  truncateBefore(ts: OpTime): void {
    this.oplog = this.oplog.filter((row) => !isAfter(ts, row.ts));
  }

  failNextTail(afterBatches: number, error: unknown): void {
    this.tailFailures.push({ afterBatches, error });
  }

  failNextScan(ns: string, afterDocs: number, error: unknown): void {
    this.scanFailures.set(ns, { afterDocs, error });
  }

  /** The next `listNamespaces` throws `error` (as `MongoSource` does for a selected view, for example). */
  failNextListNamespaces(error: unknown): void {
    this.listFailure = error;
  }

  async info(): Promise<SourceFacts> {
    return this.facts;
  }

  async latestOplogTs(): Promise<OpTime | undefined> {
    return this.oplog.at(-1)?.ts;
  }

  async listNamespaces(filters: NamespaceFilters): Promise<SourceNamespaceInfo[]> {
    const failure = this.listFailure;
    this.listFailure = undefined;
    if (failure !== undefined) throw failure;
    return [...this.collections]
      .filter(([ns]) => namespaceSelected(ns, filters))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([ns, c]) => ({
        ns,
        options: c.options,
        indexes: c.indexes,
        estimatedDocs: c.docs.length,
        estimatedBytes: c.docs.reduce((n, d) => n + d.length, 0),
      }));
  }

  async *scan(ns: string, options: { signal?: AbortSignal }): AsyncGenerator<Buffer> {
    const coll = this.collections.get(ns);
    if (coll === undefined) throw new Error(`no collection ${ns}`);
    this.scansRunning += 1;
    this.maxScansRunning = Math.max(this.maxScansRunning, this.scansRunning);
    try {
      const docs = [...coll.docs];
      for (let index = 0; index < docs.length; index++) {
        if (options.signal?.aborted) throw abortReason(options.signal);
        const failure = this.scanFailures.get(ns);
        if (failure !== undefined && index === failure.afterDocs) {
          this.scanFailures.delete(ns);
          throw failure.error;
        }
        await this.onScanDocument?.(ns, index);
        await sleep(0);
        yield docs[index]!;
      }
    } finally {
      this.scansRunning -= 1;
    }
  }

  async *fetchByIds(ns: string, ids: readonly unknown[]): AsyncGenerator<Buffer> {
    const wanted = new Set(ids.map((id) => JSON.stringify(BSON.serialize({ id }))));
    for (const doc of this.collections.get(ns)?.docs ?? []) {
      const id = BSON.deserialize(doc)['_id'];
      if (wanted.has(JSON.stringify(BSON.serialize({ id })))) yield doc;
    }
  }

  async *tail(
    jobId: string,
    prevTs: OpTime,
    filters: NamespaceFilters,
    signal?: AbortSignal,
  ): AsyncGenerator<OplogBatch> {
    this.tailsOpened.push(prevTs);
    const failure = this.tailFailures.shift();
    let position = prevTs;
    let batches = 0;
    if (!(prevTs.t === 0 && prevTs.i === 0)) {
      const first = this.oplog.find((row) => !isAfter(prevTs, row.ts));
      const oldest = this.oplog[0]?.ts;
      if (
        (first !== undefined && !opTimeEquals(first.ts, prevTs)) ||
        (first === undefined && oldest !== undefined && isAfter(oldest, prevTs))
      ) {
        throw new OplogGapError({ jobId, requestedTs: prevTs, oldestTs: first?.ts ?? oldest! });
      }
    }
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      if (failure !== undefined && batches === failure.afterBatches) throw failure.error;
      const fresh = this.oplog.filter((row) => isAfter(row.ts, position));
      if (fresh.length > 0) {
        const take = fresh.slice(0, 7); // small server batches
        position = take[take.length - 1]!.ts;
        batches += 1;
        this.batchesRead += 1;
        yield {
          entries: take
            .filter((row) => namespaceSelected(row.ns, filters))
            .map(({ ts, raw }) => ({ ts, raw })),
          lastTs: position,
          sourceTs: this.oplog.at(-1)!.ts,
        };
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.idleMs);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (!this.oplog.some((row) => isAfter(row.ts, position))) {
        batches += 1;
        yield { entries: [], lastTs: position, sourceTs: this.oplog.at(-1)?.ts ?? position };
      }
    }
  }
}
