/**
 * slice-ingest's own settings, read once from the environment at start-up (the shell's `ServiceConfig` holds the
 * rest: endpoints, topics, consumer group).
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `TIDEMARK_OPLOG_STORE_DB` | `tidemark_oplogstore` | database of the oplog store on the backup side |
 * | `TIDEMARK_INGEST_CONCURRENCY` | 2 | partitions processed at once (each holds up to one 17 MiB slice, decompressed up to `TIDEMARK_SLICE_MAX_RAW_BYTES`) |
 * | `TIDEMARK_INGEST_RETRY_INITIAL_MS` | 1000 | first wait before a message is redelivered after a retriable failure (`PARTITION_RETRY`) |
 * | `TIDEMARK_INGEST_RETRY_MAX_MS` | 30000 | longest such wait (the wait doubles per consecutive failure of a partition) |
 * | `TIDEMARK_SLICE_MAX_BYTES` | 17 MiB | largest compressed slice accepted (`DEFAULT_SLICE_LIMITS.maxSliceBytes`) |
 * | `TIDEMARK_SLICE_MAX_RAW_BYTES` | 256 MiB | largest uncompressed slice accepted |
 */
import { DEFAULT_SLICE_LIMITS, validateSliceLimits, type SliceLimits } from '@tidemark/domain';
import { DEFAULT_OPLOG_STORE_DB } from '@tidemark/oplog-store';
import { intFromEnv, ServiceConfigError } from '@tidemark/service-shell';
import { PARTITION_RETRY } from '@tidemark/util';

export interface IngestSettings {
  readonly oplogStoreDb: string;
  /** kafkajs `partitionsConsumedConcurrently`: messages of one partition are always handled one at a time. */
  readonly concurrency: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly limits: SliceLimits;
}

/** Reads the settings; throws `ServiceConfigError` naming the bad variable. */
export function loadIngestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  const oplogStoreDb = env['TIDEMARK_OPLOG_STORE_DB'] || DEFAULT_OPLOG_STORE_DB;
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(oplogStoreDb)) {
    throw new ServiceConfigError(
      `TIDEMARK_OPLOG_STORE_DB is not a valid database name: ${JSON.stringify(oplogStoreDb)}`,
    );
  }
  const GiB = 1024 * 1024 * 1024;
  const maxSliceBytes = intFromEnv(
    env,
    'TIDEMARK_SLICE_MAX_BYTES',
    DEFAULT_SLICE_LIMITS.maxSliceBytes,
    1,
    DEFAULT_SLICE_LIMITS.maxSliceBytes,
  );
  const limits: SliceLimits = {
    targetSliceBytes: Math.min(DEFAULT_SLICE_LIMITS.targetSliceBytes, maxSliceBytes),
    maxSliceBytes,
    maxRawBytes: intFromEnv(
      env,
      'TIDEMARK_SLICE_MAX_RAW_BYTES',
      DEFAULT_SLICE_LIMITS.maxRawBytes,
      1,
      2 * GiB,
    ),
  };
  const problems = validateSliceLimits(limits);
  if (problems.length > 0) throw new ServiceConfigError(`slice limits: ${problems.join('; ')}`);
  const retryInitialMs = intFromEnv(
    env,
    'TIDEMARK_INGEST_RETRY_INITIAL_MS',
    PARTITION_RETRY.initialMs,
    1,
    600_000,
  );
  return {
    oplogStoreDb,
    concurrency: intFromEnv(env, 'TIDEMARK_INGEST_CONCURRENCY', 2, 1, 64),
    retryInitialMs,
    retryMaxMs: intFromEnv(
      env,
      'TIDEMARK_INGEST_RETRY_MAX_MS',
      Math.max(PARTITION_RETRY.maxMs, retryInitialMs),
      retryInitialMs,
      3_600_000,
    ),
    limits,
  };
}
