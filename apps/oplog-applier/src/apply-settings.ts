/**
 * The oplog-applier's own settings, read once at start-up from the environment (see README.md).
 */
import { DEFAULT_LEASE_TTL_MS, DEFAULT_MAX_SLICES_PER_TURN, DEFAULT_TICK_MS } from '@tidemark/head-database';
import { DEFAULT_OPLOG_STORE_DB } from '@tidemark/oplog-store';
import { intFromEnv, ServiceConfigError } from '@tidemark/service-shell';

export interface ApplySettings {
  /** `TIDEMARK_OPLOG_STORE_DB` (default `tidemark_oplogstore`): database of the oplog store. */
  readonly oplogStoreDb: string;
  /** `TIDEMARK_APPLY_MAX_SLICES_PER_TURN` (default 20): slices one job applies before the next job's turn. */
  readonly maxSlicesPerTurn: number;
  /** `TIDEMARK_APPLY_LEASE_MS` (default 15000): time to live of a job's apply lease. */
  readonly leaseTtlMs: number;
  /** `TIDEMARK_APPLY_TICK_MS` (default 1000): how often the jobs are scanned. */
  readonly tickMs: number;
  /** `TIDEMARK_VERIFY_BSON_ROUNDTRIP` (default true): refuse entries the driver would write back differently. */
  readonly verifyRoundTrip: boolean;
}

export function loadApplySettings(env: NodeJS.ProcessEnv = process.env): ApplySettings {
  const verify = env['TIDEMARK_VERIFY_BSON_ROUNDTRIP'];
  if (verify !== undefined && verify !== '' && verify !== 'true' && verify !== 'false') {
    throw new ServiceConfigError(
      `TIDEMARK_VERIFY_BSON_ROUNDTRIP must be true or false, got ${JSON.stringify(verify)}`,
    );
  }
  const oplogStoreDb = env['TIDEMARK_OPLOG_STORE_DB'] || DEFAULT_OPLOG_STORE_DB;
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(oplogStoreDb)) {
    throw new ServiceConfigError(
      `TIDEMARK_OPLOG_STORE_DB is not a valid database name: ${JSON.stringify(oplogStoreDb)}`,
    );
  }
  return {
    oplogStoreDb,
    maxSlicesPerTurn: intFromEnv(
      env,
      'TIDEMARK_APPLY_MAX_SLICES_PER_TURN',
      DEFAULT_MAX_SLICES_PER_TURN,
      1,
      10_000,
    ),
    leaseTtlMs: intFromEnv(env, 'TIDEMARK_APPLY_LEASE_MS', DEFAULT_LEASE_TTL_MS, 1_000, 600_000),
    tickMs: intFromEnv(env, 'TIDEMARK_APPLY_TICK_MS', DEFAULT_TICK_MS, 10, 60_000),
    verifyRoundTrip: verify !== 'false',
  };
}
