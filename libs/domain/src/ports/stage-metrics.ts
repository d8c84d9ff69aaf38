/**
 * The port a stage counts what it did through, for operators: the service shell implements it on Prometheus
 * (`ServiceMetrics` of @tidemark/service-shell, prom-client); libraries only call it, so no library but the shell
 * depends on a metrics package. Every method is cheap and synchronous, never throws, and may be called from any
 * pipeline step. Labels stay low-cardinality: a slice kind, an outcome word, an error's class name.
 */
import type { SliceKind } from '../slice';

export interface StageMetrics {
  /**
   * A failure the stage handled: retried later (`retriable`) or stopped on (fatal: a halted partition, a job's
   * work stopped). Counted by the error's class (`err.name`).
   */
  failure(err: unknown, retriable: boolean): void;
  /**
   * Slices processed (`count`, with `docs` documents or oplog entries and `bytes` compressed payload bytes in all):
   * published (agent), stored / duplicate / rejected (slice-ingest), built (head-builder), applied (oplog-applier).
   */
  slices(kind: SliceKind, outcome: string, count: number, docs: number, bytes: number): void;
  /** Oplog entries applied to a head database (a counter: `rate()` gives the apply rate). */
  entriesApplied(count: number): void;
}

/** Counts nothing: the default where no metrics are wired (specs, the CLI). */
export const NO_STAGE_METRICS: StageMetrics = Object.freeze({
  failure: () => undefined,
  slices: () => undefined,
  entriesApplied: () => undefined,
});
