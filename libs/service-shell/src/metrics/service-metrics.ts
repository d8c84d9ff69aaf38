/**
 * `ServiceMetrics`: the Prometheus metrics of one service process, in one prom-client `Registry` of its own (one
 * registry per process; specs that boot several services in one process get one each). Every metric is declared
 * here, once, named `tidemark_*`, with the service's name as the default label `service`; prom-client's default
 * process metrics are on (`tidemark_process_*`, `tidemark_nodejs_*`). The apps feed it through the
 * `StageMetrics` port of @tidemark/domain (libraries call that and never import prom-client) and through the
 * sources they register, which are read on each scrape. Labels are low-cardinality: topic and partition, slice
 * kind, outcome word, error class, phase, job state; `job_id` only on the per-job gauges the alerts need.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  describeError,
  type OpTime,
  type PhaseReport,
  type SliceKind,
  type SnapshotEvent,
  type StageMetrics,
} from '@tidemark/domain';
import type { JobCounts } from '@tidemark/jobs';
import { PhaseTimer } from './phase-timer';

/** Every metric name a Tidemark service exports besides prom-client's defaults. */
export const METRIC_NAMES = {
  consumerLag: 'tidemark_consumer_lag',
  slices: 'tidemark_slices_total',
  sliceDocuments: 'tidemark_slice_documents_total',
  sliceBytes: 'tidemark_slice_bytes_total',
  entriesApplied: 'tidemark_oplog_entries_applied_total',
  captureLag: 'tidemark_capture_lag_seconds',
  sourceOplogTime: 'tidemark_source_oplog_time_seconds',
  oplogSliceStoredTime: 'tidemark_oplog_slice_stored_time_seconds',
  errors: 'tidemark_errors_total',
  phaseDuration: 'tidemark_phase_duration_seconds',
  jobs: 'tidemark_jobs',
  jobsResyncRequired: 'tidemark_jobs_resync_required',
  snapshotEvents: 'tidemark_snapshot_events_total',
  snapshotDuration: 'tidemark_snapshot_duration_seconds',
  snapshotBytes: 'tidemark_snapshot_bytes_total',
  snapshotCompletedTime: 'tidemark_snapshot_completed_time_seconds',
} as const;

/** Prefix of prom-client's default process metrics. */
export const METRIC_PREFIX = 'tidemark_';

/** One partition's lag, as the bus reports it (`consumerLag` of @tidemark/bus). */
export interface PartitionLagSample {
  readonly topic: string;
  readonly partition: number;
  readonly lag: bigint;
}

/** Where a job's capture is (the agent): the newest source position seen and the newest shipped. */
export interface CapturePosition {
  readonly jobId: string;
  readonly sourceTs: OpTime;
  readonly shippedTs: OpTime;
}

/** Phase durations: from seconds to a day (an initial sync of a large deployment). */
const PHASE_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600];
/** Snapshot durations: from a second (an incremental snapshot of a small head) to six hours. */
const SNAPSHOT_BUCKETS = [1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600];

/** An error's class for the `class` label: its name, reduced to a label-safe word. */
export function errorClass(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  return name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64) || 'unknown';
}

export class ServiceMetrics implements StageMetrics {
  readonly registry: Registry = new Registry();
  private readonly slicesTotal: Counter<'kind' | 'outcome'>;
  private readonly documentsTotal: Counter<'kind' | 'outcome'>;
  private readonly bytesTotal: Counter<'kind' | 'outcome'>;
  private readonly appliedTotal: Counter;
  private readonly errorsTotal: Counter<'class' | 'retriable'>;
  private readonly storedTime: Gauge<'job_id'>;
  private readonly phaseDuration: Histogram<'phase'>;
  private readonly snapshotEventsTotal: Counter<'event' | 'store' | 'outcome'>;
  private readonly snapshotDuration: Histogram<'store'>;
  private readonly snapshotBytesTotal: Counter<'store' | 'kind'>;
  private readonly snapshotCompletedTime: Gauge<'job_id'>;
  private readonly snapshotCompletedSeconds = new Map<string, number>();
  private readonly phases = new PhaseTimer();
  private lagSource: (() => Promise<readonly PartitionLagSample[]>) | undefined;
  private captureSource: (() => readonly CapturePosition[]) | undefined;
  private jobsSource: (() => Promise<JobCounts>) | undefined;

  constructor(
    readonly service: string,
    private readonly onCollectError: (what: string, error: string) => void = () => undefined,
  ) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    const lag: Gauge<'topic' | 'partition'> = new Gauge({
      name: METRIC_NAMES.consumerLag,
      help: "Messages the service's consumer group has still to read: the partition's high watermark minus the group's committed offset, read on each scrape.",
      labelNames: ['topic', 'partition'],
      registers,
      collect: async () => {
        if (this.lagSource === undefined) return;
        lag.reset();
        try {
          for (const p of await this.lagSource()) {
            lag.set({ topic: p.topic, partition: String(p.partition) }, Number(p.lag));
          }
        } catch (err) {
          this.collectFailed('consumer lag', err);
        }
      },
    });
    this.slicesTotal = new Counter({
      name: METRIC_NAMES.slices,
      help: 'Slices processed, by slice kind and outcome (published, stored, duplicate, rejected, built, applied).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.documentsTotal = new Counter({
      name: METRIC_NAMES.sliceDocuments,
      help: 'Documents (initial-sync slices) or oplog entries (oplog slices) in the slices processed.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.bytesTotal = new Counter({
      name: METRIC_NAMES.sliceBytes,
      help: 'Compressed payload bytes of the slices processed.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.appliedTotal = new Counter({
      name: METRIC_NAMES.entriesApplied,
      help: 'Oplog entries applied to head databases; rate() is the apply rate.',
      registers,
    });
    this.errorsTotal = new Counter({
      name: METRIC_NAMES.errors,
      help: 'Failures the service handled, by error class and whether it retries them (false: a partition or a job stopped).',
      labelNames: ['class', 'retriable'],
      registers,
    });
    const captureLag: Gauge<'job_id'> = new Gauge({
      name: METRIC_NAMES.captureLag,
      help: "Seconds the job's capture is behind its source: the source's newest oplog time minus the newest shipped oplog slice's end (agent).",
      labelNames: ['job_id'],
      registers,
      collect: () => {
        if (this.captureSource === undefined) return;
        captureLag.reset();
        for (const p of this.captureSource()) {
          captureLag.set({ job_id: p.jobId }, Math.max(0, p.sourceTs.t - p.shippedTs.t));
        }
      },
    });
    const sourceTime: Gauge<'job_id'> = new Gauge({
      name: METRIC_NAMES.sourceOplogTime,
      help: "The newest oplog time (Unix seconds) the agent has seen on the job's source.",
      labelNames: ['job_id'],
      registers,
      collect: () => {
        if (this.captureSource === undefined) return;
        sourceTime.reset();
        for (const p of this.captureSource()) sourceTime.set({ job_id: p.jobId }, p.sourceTs.t);
      },
    });
    this.storedTime = new Gauge({
      name: METRIC_NAMES.oplogSliceStoredTime,
      help: 'When (Unix seconds, wall clock) slice-ingest last stored an oplog slice of the job.',
      labelNames: ['job_id'],
      registers,
    });
    this.phaseDuration = new Histogram({
      name: METRIC_NAMES.phaseDuration,
      help: "Seconds a sync spent in a phase, observed when it moves to the next (job-state, from every stage's phase reports).",
      labelNames: ['phase'],
      buckets: PHASE_BUCKETS,
      registers,
    });
    this.snapshotEventsTotal = new Counter({
      name: METRIC_NAMES.snapshotEvents,
      help: 'Snapshot events the snapshotter published, by event (started, completed, failed, expired, verified, deleted), store, and for verified the outcome (intact, damaged; otherwise none).',
      labelNames: ['event', 'store', 'outcome'],
      registers,
    });
    this.snapshotDuration = new Histogram({
      name: METRIC_NAMES.snapshotDuration,
      help: 'Seconds from the start of a snapshot to its completion, by store (completed snapshots only).',
      labelNames: ['store'],
      buckets: SNAPSHOT_BUCKETS,
      registers,
    });
    this.snapshotBytesTotal = new Counter({
      name: METRIC_NAMES.snapshotBytes,
      help: "Bytes of completed snapshots by store: kind logical (the documents' BSON) and stored (blocks the snapshot added to the store); stored / logical is what deduplication and compression leave.",
      labelNames: ['store', 'kind'],
      registers,
    });
    this.snapshotCompletedTime = new Gauge({
      name: METRIC_NAMES.snapshotCompletedTime,
      help: "When (Unix seconds) the job's newest snapshot this snapshotter completed was completed.",
      labelNames: ['job_id'],
      registers,
    });
    const jobs: Gauge<'state'> = new Gauge({
      name: METRIC_NAMES.jobs,
      help: 'Backup jobs by state (job-state).',
      labelNames: ['state'],
      registers,
      collect: async () => {
        const counts = await this.jobCounts();
        if (counts === undefined) return;
        jobs.reset();
        for (const [state, n] of Object.entries(counts.byState)) jobs.set({ state }, n);
      },
    });
    const resync: Gauge = new Gauge({
      name: METRIC_NAMES.jobsResyncRequired,
      help: 'Backup jobs whose current sync raised RESYNC_REQUIRED: the source oplog no longer holds their position (job-state).',
      registers,
      collect: async () => {
        const counts = await this.jobCounts();
        if (counts !== undefined) resync.set(counts.resyncRequired);
      },
    });
  }

  // StageMetrics
  failure(err: unknown, retriable: boolean): void {
    this.errorsTotal.inc({ class: errorClass(err), retriable: String(retriable) });
  }

  slices(kind: SliceKind, outcome: string, count: number, docs: number, bytes: number): void {
    const labels = { kind, outcome };
    this.slicesTotal.inc(labels, count);
    this.documentsTotal.inc(labels, docs);
    this.bytesTotal.inc(labels, bytes);
  }

  entriesApplied(count: number): void {
    if (count > 0) this.appliedTotal.inc(count);
  }

  /** slice-ingest stored (or found stored) an oplog slice of `jobId` at `at`. */
  oplogSliceStored(jobId: string, at: Date): void {
    this.storedTime.set({ job_id: jobId }, Math.floor(at.getTime() / 1000));
  }

  /** A phase report folded by job-state: observes the duration of the phase it ends. */
  phaseReported(report: Pick<PhaseReport, 'jobId' | 'syncId' | 'phase' | 'at'>): void {
    const ended = this.phases.report(report);
    if (ended !== undefined) this.phaseDuration.observe({ phase: ended.phase }, ended.seconds);
  }

  /** A snapshot event the snapshotter published: counted, and a completion timed and sized. */
  snapshotPublished(e: SnapshotEvent): void {
    const outcome = e.verify === undefined ? 'none' : e.verify.ok ? 'intact' : 'damaged';
    this.snapshotEventsTotal.inc({ event: e.event, store: e.store, outcome });
    if (e.event !== 'completed') return;
    const completedAt = e.completedAt ?? e.at;
    this.snapshotDuration.observe(
      { store: e.store },
      Math.max(0, completedAt.getTime() - e.takenAt.getTime()) / 1000,
    );
    this.snapshotBytesTotal.inc({ store: e.store, kind: 'logical' }, e.logicalBytes);
    this.snapshotBytesTotal.inc({ store: e.store, kind: 'stored' }, e.storedBytes);
    const seconds = Math.floor(completedAt.getTime() / 1000);
    // Never backwards: an older snapshot's completion reported after a newer one keeps the newer time.
    const newest = this.snapshotCompletedSeconds.get(e.jobId);
    if (newest === undefined || newest < seconds) {
      this.snapshotCompletedSeconds.set(e.jobId, seconds);
      this.snapshotCompletedTime.set({ job_id: e.jobId }, seconds);
    }
  }

  /** The consumer group's lag, read on each scrape (the shell registers it for every consuming service). */
  watchConsumerLag(source: () => Promise<readonly PartitionLagSample[]>): void {
    this.lagSource = source;
  }

  /** The agent's jobs' capture positions, read on each scrape. */
  watchCapture(source: () => readonly CapturePosition[]): void {
    this.captureSource = source;
  }

  /** job-state's job counts, read on each scrape. */
  watchJobs(source: () => Promise<JobCounts>): void {
    this.jobsSource = source;
  }

  /** The exposition text (Prometheus text format, prom-client's `prometheusContentType`). */
  scrape(): Promise<string> {
    this.jobsRead = undefined;
    return this.registry.metrics();
  }

  /** Both job gauges of one scrape share one read of the jobs. */
  private jobsRead: Promise<JobCounts | undefined> | undefined;

  private jobCounts(): Promise<JobCounts | undefined> {
    const source = this.jobsSource;
    if (source === undefined) return Promise.resolve(undefined);
    this.jobsRead ??= source().catch((err: unknown) => {
      this.collectFailed('job counts', err);
      return undefined;
    });
    return this.jobsRead;
  }

  /**
   * A source that failed during a scrape: its series are left out of this scrape, the failure is counted in
   * `tidemark_errors_total` (visible from the next scrape: the counters of one scrape are read side by side).
   */
  private collectFailed(what: string, err: unknown): void {
    this.failure(err, true);
    this.onCollectError(what, describeError(err));
  }
}
