/**
 * The agent's read limits (the job setting `readLimit`, MB/s, `@tidemark/domain` `read-limit.ts`): each job has one
 * {@link TokenBucket} of `@tidemark/util`, and every byte the agent reads from the job's source for that job passes
 * through it: the documents of the initial sync's collection scan, the oplog its tail reads (every entry read,
 * `OplogBatch.readBytes`), the documents of a missing-documents fetch. Jobs never share a bucket, so one job's cap
 * does not slow another.
 *
 * Where the limit comes from:
 * - START / RESTART / RESYNC carry the job's limit as the command's `readLimit` parameter (absent: uncapped), so a
 *   new sync is paced from its first read;
 * - the start-up recovery, and then every `TIDEMARK_AGENT_SETTINGS_POLL_MS` {@link pollReadLimits}, read
 *   `GET /api/v1/agent/jobs` (the jobs the agent serves, each with its limit): a limit changed through the API
 *   applies to the running scan or tail within one poll (and the bucket's short sleeps), without restarting it.
 *   A failed poll keeps the limits as they were (logged) and is tried again at the next.
 *
 * A new piece of work (a sync, a resumed tail) starts with an empty bucket, so it is paced from its first byte;
 * the bucket saves at most one second of the rate while the job reads less (an idle oplog), so no burst after
 * idling exceeds that. A capped scan also asks the source for about one second of its rate per server batch
 * (from the namespace's average document size), so no single batch is a larger burst on the wire.
 *
 * Logs: `read-limit-changed` (job, limit, where it came from) and, once per limit, `read-throttled` when the job
 * first has to wait for it.
 */
import { describeError, formatReadLimit, readLimitBytesPerSecond, type ReadLimit } from '@tidemark/domain';
import { TokenBucket, sleep as realSleep } from '@tidemark/util';
import {
  silentLogger,
  type AgentJob,
  type AgentLogger,
  type CapturePosition,
  type JobStateClient,
  type OplogBatch,
  type SourceReader,
} from './ports';

/** Documents per server batch of a capped scan at most (the source's default batch). */
const MAX_SCAN_BATCH = 1000;

export interface JobReadLimitsDeps {
  readonly logger?: AgentLogger;
  /** Milliseconds now, for the buckets (default `performance.now()`). */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface JobLimit {
  limit: ReadLimit | undefined;
  bucket: TokenBucket;
  /** `read-throttled` was logged for the current limit. */
  reported: boolean;
}

export class JobReadLimits {
  private readonly jobs = new Map<string, JobLimit>();
  private readonly logger: AgentLogger;

  constructor(private readonly deps: JobReadLimitsDeps = {}) {
    this.logger = deps.logger ?? silentLogger;
  }

  /** The job's current limit, MB/s; undefined when uncapped (or unknown). */
  limitOf(jobId: string): ReadLimit | undefined {
    return this.jobs.get(jobId)?.limit;
  }

  /**
   * Sets the job's limit (undefined: uncapped); it applies at once to the job's running reads. `from` says where
   * the limit came from, for the log.
   */
  set(jobId: string, limit: ReadLimit | undefined, from: string): void {
    const entry = this.jobs.get(jobId);
    if (entry === undefined) {
      this.jobs.set(jobId, this.entry(limit));
      if (limit !== undefined) this.logChange(jobId, undefined, limit, from);
      return;
    }
    if (entry.limit === limit) return;
    entry.bucket.setRate(limit === undefined ? undefined : readLimitBytesPerSecond(limit));
    this.logChange(jobId, entry.limit, limit, from);
    entry.limit = limit;
    entry.reported = false;
  }

  /** The limits of the jobs job-state lists (`GET /api/v1/agent/jobs`); other jobs keep theirs. */
  applyListed(jobs: readonly Pick<AgentJob, 'id' | 'readLimit'>[]): void {
    for (const job of jobs) this.set(job.id, job.readLimit, 'job-state');
  }

  /**
   * A new piece of work for the job (a sync, a resumed tail) begins: its bucket starts empty. Call it once the
   * job's previous work has stopped.
   */
  renew(jobId: string): void {
    this.jobs.set(jobId, this.entry(this.jobs.get(jobId)?.limit));
  }

  /**
   * `source` as the job reads it: scans, tails and fetches are paced by the job's bucket (the one current when each
   * item is read, so a {@link renew} or a changed limit reaches reads already under way). Other calls pass through.
   */
  throttled(source: SourceReader, jobId: string): SourceReader {
    const take = (bytes: number, signal?: AbortSignal): Promise<void> | undefined => {
      const entry = this.jobs.get(jobId) ?? this.created(jobId);
      return entry.bucket.limited ? this.paced(jobId, entry, bytes, signal) : undefined;
    };
    /** Average document size of each namespace listed, from the source's estimates. */
    const averages = new Map<string, number>();
    const batchSize = (ns: string, given: number | undefined): number | undefined => {
      const rate = this.jobs.get(jobId)?.bucket.rate;
      const average = averages.get(ns);
      if (rate === undefined || average === undefined) return given;
      return Math.max(1, Math.min(given ?? MAX_SCAN_BATCH, Math.floor(rate / average)));
    };
    return {
      info: () => source.info(),
      latestOplogTs: () => source.latestOplogTs(),
      listNamespaces: async (filters) => {
        const listed = await source.listNamespaces(filters);
        for (const n of listed) {
          if (n.estimatedDocs !== undefined && n.estimatedDocs > 0 && n.estimatedBytes !== undefined)
            averages.set(n.ns, Math.max(1, n.estimatedBytes / n.estimatedDocs));
        }
        return listed;
      },
      scan: async function* (ns, options) {
        // A capped scan asks for about one second of its rate per server batch, so the source does not send a
        // whole default batch (up to 16 MB) at once and the job then wait for it.
        const size = batchSize(ns, options.batchSize);
        for await (const doc of source.scan(
          ns,
          size === undefined ? options : { ...options, batchSize: size },
        )) {
          const wait = take(doc.length, options.signal);
          if (wait !== undefined) await wait;
          yield doc;
        }
      },
      tail: async function* (tailJobId, prevTs, filters, signal) {
        for await (const batch of source.tail(tailJobId, prevTs, filters, signal)) {
          const wait = take(batchReadBytes(batch), signal);
          if (wait !== undefined) await wait;
          yield batch;
        }
      },
      fetchByIds: async function* (ns, ids) {
        for await (const doc of source.fetchByIds(ns, ids)) {
          const wait = take(doc.length);
          if (wait !== undefined) await wait;
          yield doc;
        }
      },
    };
  }

  private async paced(jobId: string, entry: JobLimit, bytes: number, signal?: AbortSignal): Promise<void> {
    const waited = await entry.bucket.take(bytes, signal);
    if (waited && !entry.reported) {
      entry.reported = true;
      this.logger.event({ event: 'read-throttled', jobId, readLimit: formatReadLimit(entry.limit) });
    }
  }

  private created(jobId: string): JobLimit {
    const entry = this.entry(undefined);
    this.jobs.set(jobId, entry);
    return entry;
  }

  private entry(limit: ReadLimit | undefined): JobLimit {
    const bucket = new TokenBucket({
      rate: limit === undefined ? undefined : readLimitBytesPerSecond(limit),
      ...(this.deps.now === undefined ? {} : { now: this.deps.now }),
      ...(this.deps.sleep === undefined ? {} : { sleep: this.deps.sleep }),
    });
    return { limit, bucket, reported: false };
  }

  private logChange(
    jobId: string,
    was: ReadLimit | undefined,
    limit: ReadLimit | undefined,
    from: string,
  ): void {
    this.logger.event({
      event: 'read-limit-changed',
      jobId,
      readLimit: formatReadLimit(limit),
      was: formatReadLimit(was),
      from,
    });
  }
}

/** Bytes a batch cost the source: what the tail says it read, else its entries' bytes. */
export function batchReadBytes(batch: OplogBatch): number {
  return batch.readBytes ?? batch.entries.reduce((n, e) => n + e.raw.length, 0);
}

export interface PollReadLimitsOptions {
  readonly jobState: Pick<JobStateClient, 'listAgentJobs' | 'reportCapture'>;
  readonly limits: Pick<JobReadLimits, 'applyListed'>;
  /** The running jobs' capture positions, reported to job-state on each poll (none: nothing reported). */
  readonly capture?: () => readonly CapturePosition[];
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly logger?: AgentLogger;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Every `intervalMs` until `signal` aborts: the jobs job-state lists, their limits applied, then the running jobs'
 * capture positions reported to job-state (`capture`; skipped when no job runs). A failed poll leaves
 * the limits as they were until a poll succeeds; the first failure of a run of them is logged
 * (`read-limits-poll-failed`), and so is the end of the run (`read-limits-poll-recovered`, with how many failed).
 * Resolves when aborted; never rejects.
 */
export async function pollReadLimits(options: PollReadLimitsOptions): Promise<void> {
  const { signal } = options;
  const logger = options.logger ?? silentLogger;
  const sleep = options.sleep ?? realSleep;
  let failures = 0;
  while (!signal.aborted) {
    try {
      await sleep(options.intervalMs, signal);
    } catch {
      return; // aborted
    }
    try {
      options.limits.applyListed(await options.jobState.listAgentJobs());
      const positions = options.capture?.() ?? [];
      if (positions.length > 0) await options.jobState.reportCapture(positions);
      if (failures > 0) logger.event({ event: 'read-limits-poll-recovered', failures });
      failures = 0;
    } catch (err) {
      if (signal.aborted) return;
      if (failures === 0) logger.event({ event: 'read-limits-poll-failed', error: describeError(err) });
      failures += 1;
    }
  }
}
