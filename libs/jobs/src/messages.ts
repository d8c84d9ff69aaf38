/**
 * The bus messages job-state reads and writes, in domain terms. The app maps them to and from the Avro records of
 * `@tidemark/bus` (`JobCommand`; phase reports and alerts are `PhaseReport` and `Alert` of @tidemark/domain); this library imports no Kafka package.
 */
import type { PhaseReport } from '@tidemark/domain';

/** The commands job-state sends on `tidemark.commands` (the state machine's actions). */
export type JobCommandAction =
  | 'START'
  | 'RESTART'
  | 'RESYNC'
  | 'STOP'
  | 'TERMINATE'
  | 'TAKE_SNAPSHOT'
  | 'VERIFY_SNAPSHOT'
  | 'DELETE_SNAPSHOT';

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
