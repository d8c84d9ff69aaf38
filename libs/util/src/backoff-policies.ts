/**
 * Every backoff policy of Tidemark, named by what it retries (PBM's `defs.go`): the one place to read or change how
 * long anything waits between attempts. Each policy is a {@link Backoff} (see `backoff.ts` for the cap and the
 * jitter); the loop that uses it decides when to stop (attempts, elapsed time, a stop signal) and when a success
 * starts the count over.
 *
 * Not here: kafkajs's own retry of each broker request, which kafkajs runs with its own jitter
 * (`DEFAULT_RETRY` in `libs/bus/src/kafka.ts`); and the oplog tail's polling and settling waits, which are the
 * normal course of tailing, not retries (`libs/source/src/oplog-tail.ts`).
 */
import { Backoff } from './backoff';

/** `retry()` when its caller names no policy: 100 ms doubling up to 10 s, full jitter. */
export const RETRY_DEFAULT = new Backoff({ initialMs: 100, factor: 2, maxMs: 10_000, jitter: 'full' });

/**
 * The agent publishing an alert to `tidemark.alerts` (tail ended, resync required, command failed), through
 * `retry()` with 5 attempts; a last failure is logged. 100 ms doubling up to 10 s, full jitter.
 */
export const ALERT_PUBLISH = new Backoff({ initialMs: 100, factor: 2, maxMs: 10_000, jitter: 'full' });

/**
 * The oplog tail reopening its cursor after a retriable source failure (network, a reopenable cursor error, a
 * cursor that went back in time), from the last yielded position. Counts failures since the last progress; the
 * tail gives up after `maxStallMs` without progress. 100 ms doubling up to 10 s, full jitter. `OplogTail`'s
 * `reopenBackoff` option overrides it.
 */
export const OPLOG_TAIL_REOPEN = new Backoff({ initialMs: 100, factor: 2, maxMs: 10_000, jitter: 'full' });

/**
 * The agent restarting a job's oplog shipping after a retriable failure the tail's own reopen does not cover
 * (Kafka or the source unreachable for long), from the last acknowledged position. Counts failures since the last
 * acknowledged slice; retries until the job stops. 1 s doubling up to 30 s, full jitter. The agent's
 * `tailRestart` setting overrides it.
 */
export const OPLOG_SHIPPING_RESTART = new Backoff({
  initialMs: 1_000,
  factor: 2,
  maxMs: 30_000,
  jitter: 'full',
});

/**
 * The agent handling a job command again (`StartJob`, `StopJob`, `ResyncJob`) after a retriable failure; the
 * command stays uncommitted and is retried until it succeeds or the agent stops. 500 ms doubling up to 30 s, full
 * jitter.
 */
export const AGENT_COMMAND_RETRY = new Backoff({ initialMs: 500, factor: 2, maxMs: 30_000, jitter: 'full' });

/**
 * An agent start-up step that failed (connecting the Kafka producer, the start-up recovery against job-state),
 * retried until it succeeds or the agent stops. 500 ms doubling up to 15 s, equal jitter (never less than half
 * the cap).
 */
export const AGENT_STARTUP = new Backoff({ initialMs: 500, factor: 2, maxMs: 15_000, jitter: 'equal' });

/**
 * The committing consumer delivering a message again after its handler failed retriably: the partition is paused
 * for the wait, then the same message is handled. Counted per partition, reset after a commit. 1 s doubling up to
 * 30 s, equal jitter (never less than half the cap, so a partition is not hammered). slice-ingest overrides the
 * numbers with `TIDEMARK_INGEST_RETRY_INITIAL_MS` and `TIDEMARK_INGEST_RETRY_MAX_MS`.
 */
export const PARTITION_RETRY = new Backoff({ initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 'equal' });

/**
 * A snapshot waiting for a job's apply fence (`ApplyFenceHolder.hold` of `@tidemark/head-database`): between tries to
 * take the job's apply lease while the oplog-applier finishes its turn and lets go, until the caller's `waitMs`.
 * Not a retry of a failure but a poll of something expected to change within a turn. 50 ms doubling up to 1 s,
 * equal jitter.
 */
export const APPLY_FENCE_WAIT = new Backoff({ initialMs: 50, factor: 2, maxMs: 1_000, jitter: 'equal' });

/**
 * The `s3` snapshot store's requests (a block object's put, get and delete, each step of a multipart upload) after
 * a retriable failure (throttling, 5xx, connection errors, as `@tidemark/s3`'s table says), within 8 attempts and
 * 2 minutes by default; then the store throws a retriable `SnapshotStoreUnavailableError`. 100 ms doubling up to
 * 5 s, full jitter. `S3SnapshotStore`'s options override it.
 */
export const S3_REQUEST_RETRY = new Backoff({ initialMs: 100, factor: 2, maxMs: 5_000, jitter: 'full' });
