/**
 * The agent's tunables, read from the environment once at start-up.
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `TIDEMARK_AGENT_SCAN_CONCURRENCY` | 2 | namespaces scanned at once during a transfer |
 * | `TIDEMARK_SLICE_TARGET_BYTES` | 10 MiB | compressed size at which a slice is cut |
 * | `TIDEMARK_OPLOG_FLUSH_MS` | 1000 | an oplog range is shipped at most this long after it advanced |
 * | `TIDEMARK_AGENT_PROGRESS_MS` | 1000 | least time between two progress reports of a transfer |
 * | `TIDEMARK_AGENT_OPLOG_QUEUE_BYTES` | 64 MiB | bytes of oplog entries read ahead of Kafka (back-pressure) |
 * | `TIDEMARK_AGENT_SETTINGS_POLL_MS` | 5000 | how often job-state is asked for the jobs' read limits (a change applies within it) |
 */
import { DEFAULT_SLICE_LIMITS, TidemarkError, type SliceCodec } from '@tidemark/domain';
import { integerSetting, OPLOG_SHIPPING_RESTART, type Backoff } from '@tidemark/util';

export interface AgentSettings {
  readonly scanConcurrency: number;
  readonly sliceTargetBytes: number;
  /** Hard maximum of a slice's compressed size (the domain's limit). */
  readonly maxSliceBytes: number;
  readonly codec: SliceCodec;
  readonly oplogFlushMs: number;
  readonly progressIntervalMs: number;
  readonly oplogQueueBytes: number;
  /** Most oplog batches queued ahead of Kafka. */
  readonly oplogQueueBatches: number;
  /** Documents per server batch of a scan. */
  readonly scanBatchSize: number;
  /** Backoff of tail restarts after retriable failures (Kafka down, source unreachable). */
  readonly tailRestart: Backoff;
  /** How often job-state is asked for the jobs' read limits (`pollReadLimits`). */
  readonly settingsPollMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_AGENT_SETTINGS: AgentSettings = Object.freeze({
  scanConcurrency: 2,
  sliceTargetBytes: DEFAULT_SLICE_LIMITS.targetSliceBytes,
  maxSliceBytes: DEFAULT_SLICE_LIMITS.maxSliceBytes,
  codec: 'gzip',
  oplogFlushMs: 1000,
  progressIntervalMs: 1000,
  oplogQueueBytes: 64 * MiB,
  oplogQueueBatches: 1000,
  scanBatchSize: 1000,
  tailRestart: OPLOG_SHIPPING_RESTART,
  settingsPollMs: 5000,
});

/** A setting of the environment is not usable. Not retriable: the process must not start with it. */
export class AgentConfigError extends TidemarkError {
  override readonly name: string = 'AgentConfigError';

  constructor(message: string) {
    super(message, { retriable: false });
  }
}

function integer(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return integerSetting(env, name, { fallback, min, max }, (message) => new AgentConfigError(message));
}

/** The settings from `env` (see the table above); throws {@link AgentConfigError} naming a bad variable. */
export function agentSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): AgentSettings {
  const d = DEFAULT_AGENT_SETTINGS;
  return {
    ...d,
    scanConcurrency: integer(env, 'TIDEMARK_AGENT_SCAN_CONCURRENCY', d.scanConcurrency, 1, 64),
    sliceTargetBytes: integer(env, 'TIDEMARK_SLICE_TARGET_BYTES', d.sliceTargetBytes, 1024, d.maxSliceBytes),
    oplogFlushMs: integer(env, 'TIDEMARK_OPLOG_FLUSH_MS', d.oplogFlushMs, 10, 3_600_000),
    progressIntervalMs: integer(env, 'TIDEMARK_AGENT_PROGRESS_MS', d.progressIntervalMs, 0, 3_600_000),
    oplogQueueBytes: integer(env, 'TIDEMARK_AGENT_OPLOG_QUEUE_BYTES', d.oplogQueueBytes, MiB, 4096 * MiB),
    settingsPollMs: integer(env, 'TIDEMARK_AGENT_SETTINGS_POLL_MS', d.settingsPollMs, 100, 3_600_000),
  };
}
