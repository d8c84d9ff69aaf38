/**
 * The ports the jobs feature works through. Their adapters: `MongoJobRepository` of `@tidemark/jobs-mongo` (the
 * `jobs` collection of the meta database), a Kafka `CommandPublisher` (`tidemark.commands`, `tidemark.phases`), and
 * `StoreBackupData` here, over the backup side's own ports (`@tidemark/head-database-mongo`, `@tidemark/oplog-store`);
 * `memory-*.ts` are real in-memory implementations for unit specs.
 *
 * Common contract: "not found" is `undefined`, never an error; failures throw a `TidemarkError` whose `retriable`
 * flag says whether repeating the call can succeed.
 */
import type { JobState, OpTime, StoredSliceTotals } from '@tidemark/domain';
import type { JobRecord } from './job-record';
import type { PhaseReport } from '@tidemark/domain';
import type { JobCommandMessage } from './messages';

/** Query of {@link JobRepository.list}. */
export interface JobQuery {
  /** At most this many jobs (1..1000). */
  readonly limit: number;
  /** Only jobs whose id sorts after this one (paging). */
  readonly after?: string;
  /** Only jobs in these states. */
  readonly states?: readonly JobState[];
  /** Only jobs of these projects (an API key's projects). */
  readonly projects?: readonly string[];
}

/** Where jobs are stored. Every write is durable (majority-acknowledged) when it resolves. */
export interface JobRepository {
  /** Stores a new job. Resolves false, storing nothing, when the id is already taken. */
  insert(job: JobRecord): Promise<boolean>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Jobs ordered by id. */
  list(query: JobQuery): Promise<JobRecord[]>;
  /**
   * Compare-and-set: replaces the stored job by `job` only when the stored revision is `expectedRevision`.
   * Resolves false, storing nothing, when the job changed (or vanished) meanwhile.
   */
  replace(job: JobRecord, expectedRevision: number): Promise<boolean>;
  /** Ids of jobs that owe effects (non-empty outbox or pending deletions), at most `limit`. */
  listWithPendingEffects(limit: number): Promise<string[]>;
}

/**
 * Sends job-state's messages. Each method resolves once Kafka acknowledged the message on all in-sync replicas
 * (key: the job id, so a job's messages stay in order). Sending the same message again is harmless: consumers are
 * idempotent by command id, and phase folding by sync and phase.
 */
export interface CommandPublisher {
  publishCommand(command: JobCommandMessage): Promise<void>;
  publishPhase(report: PhaseReport): Promise<void>;
}

/** What job-state reads about the head database of one sync. */
export interface HeadFacts {
  /** Last applied oplog position (`heads.appliedTs`), undefined before the transfer's catalog is recorded. */
  readonly appliedTs: OpTime | undefined;
  /** Source namespace -> head namespace, from the scan catalog; empty before it exists. */
  readonly namespaces: readonly { readonly ns: string; readonly headNs: string }[];
}

/** The job's data on the backup side: head databases and their records, and the oplog store. */
export interface JobBackupData {
  /** The head record of a sync, or undefined when none exists yet. */
  head(jobId: string, syncId: string): Promise<HeadFacts | undefined>;
  /** The greatest `lastTs` of the sync's stored oplog slices (`OplogStore.latestOplogTs`). */
  latestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined>;
  /** Where the sync's stored oplog starts: the smallest `prevTs` of its slices (`OplogStore.oldestOplogTs`). */
  oldestStoredOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined>;
  /** Oplog entries stored after position `p` (`OplogStore.countEntriesAfter`): the apply backlog. */
  countOplogEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number>;
  /** How many slices of the sync the oplog store holds, of every kind, and their stored bytes. */
  storedSlices(jobId: string, syncId: string): Promise<StoredSliceTotals>;
  /**
   * Deletes every retained backup of sync `syncNo`: its head databases, its head record (applied position,
   * built slices) and its slices in the oplog store. Idempotent; snapshots are not covered (none exist yet).
   */
  deleteSync(jobId: string, syncNo: number): Promise<void>;
}

/** Whether a store driver's failure is retriable, and why (the app passes `classifyMongoError` of `@tidemark/mongo`). */
export type StoreErrorClassifier = (err: unknown) => { readonly retriable: boolean; readonly reason: string };
