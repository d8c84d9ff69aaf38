/**
 * The bus messages job-state reads and writes, in domain terms. The app maps them to and from the Avro records of
 * `@tidemark/bus` (`PhaseChanged`, `JobCommand`; alerts are `Alert` of @tidemark/domain); this library imports no Kafka package.
 */
import type { OpTime, Phase } from '@tidemark/domain';

/** Cumulative counters of a progress report; totals are null while unknown. */
export interface ProgressCounters {
  readonly docsCopied: bigint;
  readonly docsTotal: bigint | null;
  readonly bytesCopied: bigint;
  readonly bytesTotal: bigint | null;
}

/** Counters of one namespace (`db.coll`). */
export interface NamespaceProgress extends ProgressCounters {
  readonly namespace: string;
}

/** A `PhaseChanged` report: a stage says where the sync `syncId` of job `jobId` is and how far it got. */
export interface PhaseReport {
  readonly jobId: string;
  readonly syncId: string;
  readonly phase: Phase;
  readonly stage: string;
  readonly progress: ProgressCounters & { readonly namespaces: readonly NamespaceProgress[] };
  /** Newest source oplog position the stage has seen, when known. */
  readonly sourceTs: OpTime | undefined;
  /** Stage-specific facts: startTs / endTs (`t.i`), serverVersion, featureCompatibilityVersion, reason, ... */
  readonly details: Readonly<Record<string, string>>;
  readonly at: Date;
}

/** The commands job-state sends on `tidemark.commands` (the state machine's actions). */
export type JobCommandAction = 'START' | 'RESTART' | 'RESYNC' | 'STOP' | 'TERMINATE';

/**
 * A `JobCommand`. START / RESTART / RESYNC carry `syncId`, `syncNo`, `sourceUri` (no credentials), `include` and
 * `exclude` (JSON arrays of `db` or `db.coll`), RESYNC also `reason` when given; STOP and TERMINATE carry the
 * `syncId` they end, when there is one.
 */
export interface JobCommandMessage {
  /** Unique; consumers treat a repeated id as handled. */
  readonly commandId: string;
  readonly jobId: string;
  readonly action: JobCommandAction;
  readonly issuedAt: Date;
  readonly params: Readonly<Record<string, string>>;
}

/** A message in a job's outbox: sent in order, removed (by `id`) once Kafka acknowledged it. */
export type OutboxMessage =
  | { readonly id: string; readonly kind: 'command'; readonly command: JobCommandMessage }
  | { readonly id: string; readonly kind: 'phase'; readonly report: PhaseReport };
