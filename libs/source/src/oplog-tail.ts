/**
 * The oplog tail: every entry of `local.oplog.rs` after an exclusive position `prevTs`, in oplog order, filtered to
 * the job's namespaces (`selectOplogEntry`: transactions as a whole), as batches whose ranges are complete
 * (docs/pipeline.md, "Oplog slices cover complete ranges").
 *
 * Contract:
 * - **Gap check.** Each cursor is opened with `{ ts: { $gte: from } }`; the first entry it returns must be the
 *   entry AT `from` (it proves the source still holds the position). A later first entry, or an oldest oplog entry
 *   newer than `from` while nothing is returned, throws `OplogGapError` ("backup requires a resync"). `from` is
 *   `prevTs` for the first cursor and the last yielded `lastTs` after a reopen. `prevTs` `0:0` means "from the
 *   oldest entry" and is not checked.
 * - **Batches.** `{ entries, lastTs }`: `entries` are the selected entries with `previous lastTs < ts <= lastTs`,
 *   in order; entries of other namespaces are dropped but move `lastTs` (so a batch may have no entries and still
 *   advance). A batch is yielded at the end of each server batch (or at `maxBatchBytes`). When the cursor is idle
 *   (an awaitData wait ended empty) a batch is yielded too, so the consumer can close an idle range or flush on
 *   time; it has no entries and `lastTs` equal to the previous one when nothing arrived.
 * - **Resume.** Retriable network failures and the cursor failures of `REOPENABLE_CURSOR_ERRORS` reopen the cursor
 *   from the last yielded position, with the same gap check, after a backoff. So does a cursor that goes back in
 *   time or stays idle while the oplog holds newer entries (FerretDB's tailable cursors do both under concurrent
 *   writes; a MongoDB cursor never does). Without progress for `maxStallMs` the tail gives up with a retriable
 *   `SourceReadError`; other failures are thrown at once, non-retriable.
 * - **Holes.** With `stabilityDelayMs` > 0, only entries older than the source's clock minus that delay are handed
 *   out; with `mode: 'poll'` every round is a fresh query sorted by `ts`, so an entry committed late (and stored
 *   after later ones) is read in its place instead of being passed by a long-lived cursor.
 * - **Memory.** One server batch plus at most `maxBatchBytes` of entries; each entry is a copy of its bytes.
 * - **Bytes read.** Each batch says how many bytes of oplog the tail read from the source since the previous one
 *   (`readBytes`: every namespace's entries, and in poll mode the whole round, re-read entries included), so the
 *   agent can hold the job to its read limit.
 */
import type { MongoClient } from 'mongodb';
import {
  formatOpTime,
  isAfter,
  maxOpTime,
  opTimeEquals,
  OplogGapError,
  type NamespaceFilters,
  type OplogBatch,
  type OpTime,
  type RawOplogEntry,
} from '@tidemark/domain';
import { abortReason, OPLOG_TAIL_REOPEN, sleep, type Backoff } from '@tidemark/util';
import { latestOplogTs, oldestOplogTs, OPLOG_COLLECTION, OPLOG_DB } from './oplog-bounds';
import { readOplogEntryHeader } from './oplog-entry';
import { selectOplogEntry } from './oplog-selection';
import { timestampFromOpTime } from './op-time-bson';
import { sourceClockMs } from './source-info';
import { flaggedOnly, SourceReadError, type SourceErrorClassifier } from './source-error';
import { cursorFailureOutcome, type SessionEnd } from './tail-cursor-failures';

/** What a tail session reads from: a tailable cursor, or one poll round's entries. */
interface PollCursor {
  readonly closed: boolean;
  tryNext(): Promise<unknown>;
  bufferedCount(): number;
  close(): Promise<void>;
}

/** How far before `from` a poll round keeps reading, seconds: entries stored late are still found. */
const POLL_MARGIN_S = 30;

export type { OplogBatch, RawOplogEntry } from '@tidemark/domain';

/** Reported through `onEvent`, for logs and tests. */
export type OplogTailEvent =
  | { readonly type: 'open'; readonly from: OpTime }
  | { readonly type: 'reopen'; readonly from: OpTime; readonly reason: string; readonly delayMs: number };

export interface OplogTailOptions {
  /** Job the tail reads for (named in `OplogGapError`). */
  readonly jobId: string;
  /** Exclusive start position. */
  readonly prevTs: OpTime;
  readonly filters: NamespaceFilters;
  /** Aborting closes the cursor; the iteration then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /** awaitData wait per getMore, ms. Default 1000. */
  readonly maxAwaitTimeMs?: number;
  /** Yield once this many bytes of selected entries are pending. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** Yield once this many selected entries are pending. Default 10 000. */
  readonly maxBatchEntries?: number;
  /** Backoff between reopens after network failures. Default `OPLOG_TAIL_REOPEN` (100 ms doubling up to 10 s). */
  readonly reopenBackoff?: Backoff;
  /** Give up after reopening without progress for this long, ms. Default 300 000. */
  readonly maxStallMs?: number;
  /**
   * `tailable` (default): one tailable awaitData cursor per session, in natural order. `poll`: a plain query sorted
   * by `ts` per round, re-run every `maxAwaitTimeMs` once caught up, for servers whose tailable cursors skip or
   * repeat entries under concurrent writes and whose natural order is commit order rather than `ts` order
   * (FerretDB). See {@link recommendedTailSettings}.
   */
  readonly mode?: 'tailable' | 'poll';
  /**
   * Hand out only entries older than the source's clock minus this many ms. Default 0: MongoDB shows a tailing
   * reader no entry while an earlier one is still uncommitted. Servers that give an entry its `ts` before
   * committing it (FerretDB) have short-lived holes; see {@link recommendedTailSettings}.
   */
  readonly stabilityDelayMs?: number;
  readonly onEvent?: (event: OplogTailEvent) => void;
  /**
   * Which driver failures are worth a reopen: pass `classifyMongoError` of `@tidemark/mongo`. Default: only
   * errors flagged `retriable` themselves, i.e. no driver failure.
   */
  readonly classifyError?: SourceErrorClassifier;
}

const MiB = 1024 * 1024;
const SHORT_DELAY_MS = 50;

export class OplogTail implements AsyncIterable<OplogBatch> {
  private lastYielded: OpTime;
  private sourceTs: OpTime;
  private readonly maxAwaitTimeMs: number;
  private readonly maxBatchBytes: number;
  private readonly maxBatchEntries: number;
  private readonly stabilityDelayMs: number;
  private readonly poll: boolean;
  private readonly classify: SourceErrorClassifier;
  /** Entries with `ts` up to this (ms since the epoch, source clock) are stable; refreshed on demand. */
  private horizonMs = 0;
  /** How long the last poll round's query took, ms (see `recentEntries`). */
  private lastRoundMs = 0;
  /** Bytes read from the source since the last batch handed out (`OplogBatch.readBytes`). */
  private unreportedBytes = 0;
  private started = false;

  constructor(
    private readonly client: MongoClient,
    private readonly options: OplogTailOptions,
  ) {
    this.lastYielded = options.prevTs;
    this.sourceTs = options.prevTs;
    this.maxAwaitTimeMs = options.maxAwaitTimeMs ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * MiB;
    this.maxBatchEntries = options.maxBatchEntries ?? 10_000;
    this.stabilityDelayMs = options.stabilityDelayMs ?? 0;
    this.poll = options.mode === 'poll';
    this.classify = options.classifyError ?? flaggedOnly;
  }

  /** `lastTs` of the last batch handed out (`prevTs` before the first). */
  get position(): OpTime {
    return this.lastYielded;
  }

  /** May be iterated once. */
  [Symbol.asyncIterator](): AsyncIterator<OplogBatch> {
    if (this.started) throw new Error('an OplogTail can be iterated only once');
    this.started = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<OplogBatch, void, undefined> {
    const { signal } = this.options;
    const reopenBackoff = this.options.reopenBackoff ?? OPLOG_TAIL_REOPEN;
    const maxStallMs = this.options.maxStallMs ?? 300_000;
    let failures = 0;
    let stalledSince: number | undefined;
    this.options.onEvent?.({ type: 'open', from: this.lastYielded });
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const from = this.lastYielded;
      let end: SessionEnd;
      try {
        end = yield* this.session(from);
      } catch (err) {
        // A retriable failure of the side queries (gap check, newest entry): reopen after a backoff too.
        if (!(err instanceof SourceReadError) || !err.retriable || signal?.aborted) throw err;
        end = { reason: err.message, delay: 'backoff', error: err };
      }
      // Polling and waiting for entries to settle are the normal course; failures and anomalies must not repeat
      // without progress for longer than `maxStallMs`.
      const normal = end.delay === 'poll' || end.delay === 'stable';
      if (isAfter(this.lastYielded, from) || normal) {
        failures = 0;
        stalledSince = undefined;
      }
      if (!normal) stalledSince ??= Date.now();
      if (stalledSince !== undefined && Date.now() - stalledSince > maxStallMs) {
        throw new SourceReadError(
          'tail local.oplog.rs',
          `no progress past ${formatOpTime(this.lastYielded)} for ${maxStallMs} ms: ${end.reason}`,
          { retriable: true, cause: end.error },
        );
      }
      let delayMs = 0;
      if (end.delay === 'backoff') {
        failures += 1;
        delayMs = reopenBackoff.delayMs(failures);
      } else if (end.delay === 'poll') {
        delayMs = Math.max(this.maxAwaitTimeMs, this.lastRoundMs);
      } else if (end.delay === 'short') {
        delayMs = SHORT_DELAY_MS;
      } else if (end.delay === 'stable') {
        delayMs = Math.max(SHORT_DELAY_MS, end.waitMs ?? 0, this.lastRoundMs);
      }
      this.options.onEvent?.({ type: 'reopen', from: this.lastYielded, reason: end.reason, delayMs });
      if (delayMs > 0) await sleep(delayMs, signal);
    }
  }

  /** One cursor, from `from` (gap-checked) until it must be reopened. */
  private async *session(from: OpTime): AsyncGenerator<OplogBatch, SessionEnd, undefined> {
    const { signal, filters } = this.options;
    let polled: PollCursor | undefined;
    if (this.poll) {
      try {
        polled = await this.recentEntries(from);
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        return cursorFailureOutcome(err, this.classify);
      }
    }
    const cursor: PollCursor =
      polled ??
      this.client
        .db(OPLOG_DB)
        .collection(OPLOG_COLLECTION)
        .find(
          { ts: { $gte: timestampFromOpTime(from) } },
          {
            tailable: true,
            awaitData: true,
            // FerretDB closes a tailable cursor whose first batch is short: return nothing from find, read by getMore.
            batchSize: 0,
            raw: true,
            maxAwaitTimeMS: this.maxAwaitTimeMs,
          },
        );
    const onAbort = (): void => void cursor.close().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    // `from` 0:0 means the oplog's beginning: nothing to prove.
    let confirmed = from.t === 0 && from.i === 0;
    let lastSeen = from;
    let pending: RawOplogEntry[] = [];
    let pendingBytes = 0;
    const take = (): OplogBatch => {
      const batch: OplogBatch = {
        entries: pending,
        lastTs: lastSeen,
        sourceTs: this.noteSourceTs(lastSeen),
        readBytes: this.unreportedBytes,
      };
      this.unreportedBytes = 0;
      pending = [];
      pendingBytes = 0;
      this.lastYielded = lastSeen;
      return batch;
    };
    const hasNews = (): boolean => pending.length > 0 || isAfter(lastSeen, this.lastYielded);
    try {
      for (;;) {
        let doc: unknown;
        try {
          doc = await cursor.tryNext();
        } catch (err) {
          if (signal?.aborted) throw abortReason(signal);
          if (!confirmed) await this.assertSourceHolds(from);
          const end = cursorFailureOutcome(err, this.classify);
          if (hasNews()) yield take();
          return end;
        }
        if (signal?.aborted) throw abortReason(signal);
        if (doc === null) {
          if (!confirmed) await this.assertSourceHolds(from);
          if (this.poll) {
            yield take();
            return { reason: 'caught up; polling for newer entries', delay: 'poll' };
          }
          if (cursor.closed) {
            if (hasNews()) yield take();
            return { reason: 'the server closed the tailable cursor', delay: 'poll' };
          }
          // Idle: hand out what is pending (possibly nothing) so the consumer can close ranges on time.
          yield take();
          const newest = await latestOplogTs(this.client, this.classify);
          if (newest !== undefined) this.noteSourceTs(newest);
          if (newest !== undefined && isAfter(newest, lastSeen)) {
            return {
              reason: `cursor idle at ${formatOpTime(lastSeen)} while the oplog holds entries up to ${formatOpTime(newest)}`,
              delay: 'none',
            };
          }
          continue;
        }
        const raw = Buffer.from(doc as Uint8Array);
        if (!this.poll) this.unreportedBytes += raw.length; // a poll round counted what it read
        const header = readOplogEntryHeader(raw);
        if (!confirmed) {
          if (!opTimeEquals(header.ts, from)) {
            throw new OplogGapError({ jobId: this.options.jobId, requestedTs: from, oldestTs: header.ts });
          }
          confirmed = true; // the entry AT `from` belongs to the previous range
          continue;
        }
        if (this.stabilityDelayMs > 0 && !(await this.isStable(header.ts))) {
          if (hasNews()) yield take();
          return {
            reason: `entry ${formatOpTime(header.ts)} is newer than the stability horizon`,
            delay: 'stable',
            waitMs: (header.ts.t + 1) * 1000 - this.horizonMs,
          };
        }
        if (!isAfter(header.ts, lastSeen)) {
          if (hasNews()) yield take();
          return {
            reason: `cursor returned ${formatOpTime(header.ts)} after ${formatOpTime(lastSeen)}`,
            delay: 'short',
          };
        }
        lastSeen = header.ts;
        const kept = selectOplogEntry(raw, header, filters);
        if (kept !== undefined) {
          pending.push({ ts: header.ts, raw: kept });
          pendingBytes += kept.length;
        }
        if (
          cursor.bufferedCount() === 0 ||
          pendingBytes >= this.maxBatchBytes ||
          pending.length >= this.maxBatchEntries
        ) {
          yield take();
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await cursor.close().catch(() => undefined);
    }
  }

  /** Throws `OplogGapError` when the oldest entry the source holds is newer than `from`. */
  private async assertSourceHolds(from: OpTime): Promise<void> {
    const oldest = await oldestOplogTs(this.client, this.classify);
    if (oldest !== undefined && isAfter(oldest, from)) {
      throw new OplogGapError({ jobId: this.options.jobId, requestedTs: from, oldestTs: oldest });
    }
  }

  /**
   * One poll round: the entries with `ts >= from`, sorted by `ts`, read BACKWARDS in natural (insertion) order
   * from the newest entry until entries older than `from` by `POLL_MARGIN_S` seconds (the margin catches entries
   * stored late). Only what is needed crosses the wire, but on FerretDB a round still costs the whole oplog on the
   * server: it pushes no `ts` range down to SQLite, and although it pushes the `$natural` order down it then sorts
   * every document in memory (measured: 5.5-8.5 s for one such query over a 100 MB oplog of 51,600 entries). So
   * the tail rests after a round at least as long as the round took (`lastRoundMs`): polling never keeps more
   * than about half of the source busy.
   */
  private async recentEntries(from: OpTime): Promise<PollCursor> {
    const started = Date.now();
    const found: Array<{ ts: OpTime; raw: Buffer }> = [];
    const cursor = this.client
      .db(OPLOG_DB)
      .collection(OPLOG_COLLECTION)
      .find({}, { sort: { $natural: -1 }, raw: true, batchSize: 1000 });
    try {
      for await (const doc of cursor) {
        const raw = Buffer.from(doc as unknown as Uint8Array);
        this.unreportedBytes += raw.length;
        const ts = readOplogEntryHeader(raw).ts;
        if (!isAfter(from, ts)) found.push({ ts, raw });
        else if (ts.t + POLL_MARGIN_S < from.t) break;
      }
    } finally {
      await cursor.close().catch(() => undefined);
      this.lastRoundMs = Date.now() - started;
    }
    found.sort((a, b) => (isAfter(a.ts, b.ts) ? 1 : isAfter(b.ts, a.ts) ? -1 : 0));
    let next = 0;
    return {
      closed: false,
      tryNext: async () => (next < found.length ? found[next++]!.raw : null),
      bufferedCount: () => found.length - next,
      close: async () => undefined,
    };
  }

  /** True when `ts` is older than the source's clock minus the stability delay (refreshing the clock once). */
  private async isStable(ts: OpTime): Promise<boolean> {
    const stable = (): boolean => (ts.t + 1) * 1000 <= this.horizonMs;
    if (stable()) return true;
    this.horizonMs = (await sourceClockMs(this.client, this.classify)) - this.stabilityDelayMs;
    return stable();
  }

  private noteSourceTs(ts: OpTime): OpTime {
    this.sourceTs = maxOpTime(this.sourceTs, ts);
    return this.sourceTs;
  }
}
