/**
 * job-state's periodic alert round (docs/api.md, "Alerts"), every `TIDEMARK_ALERT_EVAL_MS` (default 30 s) and at
 * start-up: evaluates every job's alerts and the stages' consumer groups (`AlertService`), publishes the alert events
 * still owed (recorded while Kafka was unreachable, or just before a crash), and deletes closed alerts older than
 * `TIDEMARK_ALERT_CLOSED_RETENTION_MS` (default 7 days). Each step logs its own failure and the next step still runs.
 */
import type { Admin } from 'kafkajs';
import { consumerLag, topicList, type Topics } from '@tidemark/bus';
import { describeError } from '@tidemark/domain';
import type { AlertService, StagePartitionReading } from '@tidemark/jobs';
import type { JsonLogger } from '@tidemark/service-shell';
import { PeriodicTask } from './periodic-task';

export const DEFAULT_ALERT_EVAL_MS = 30_000;
export const DEFAULT_ALERT_CLOSED_RETENTION_MS = 7 * 24 * 3_600_000;

/** The stages whose consumer groups are watched (`STAGE_NOT_CONSUMING`). */
export const WATCHED_STAGES = [
  'agent',
  'slice-ingest',
  'head-builder',
  'oplog-applier',
  'snapshotter',
  'job-state',
] as const;

/**
 * Every watched stage's group on every partition of the record topics it consumes (dead-letter topics are for
 * operators and not read by the stages). Group names follow `loadServiceConfig`: `[<prefix>.]tidemark-<stage>`.
 * A topic that does not exist yet (no stage that writes it has started) holds nothing to read and is left out.
 */
export async function readStagePartitions(
  admin: Admin,
  topics: Topics,
  topicPrefix: string,
): Promise<StagePartitionReading[]> {
  const existing = new Set(await admin.listTopics());
  const out: StagePartitionReading[] = [];
  for (const stage of WATCHED_STAGES) {
    const group = topicPrefix === '' ? `tidemark-${stage}` : `${topicPrefix}.tidemark-${stage}`;
    const consumed = topicList(topics)
      .filter((t) => t.value !== null && t.consumers.includes(stage) && existing.has(t.name))
      .map((t) => t.name);
    for (const p of await consumerLag(admin, group, consumed)) {
      out.push({ stage, group, topic: p.topic, partition: p.partition, lag: p.lag, committed: p.committed });
    }
  }
  return out;
}

export class AlertEvaluator extends PeriodicTask {
  constructor(
    alerts: AlertService,
    stagePartitions: () => Promise<StagePartitionReading[]>,
    logger: JsonLogger,
    intervalMs: number,
    closedRetentionMs: number,
  ) {
    super(
      'alert-eval',
      async () => {
        const step = async (name: string, run: () => Promise<Record<string, number>>) => {
          try {
            const counts = await run();
            if (Object.values(counts).some((n) => n > 0))
              logger.event({ event: `alerts-${name}`, ...counts });
          } catch (err) {
            logger.event({ event: `alerts-${name}-failed`, reason: describeError(err) });
          }
        };
        await step('jobs', async () => {
          const r = await alerts.evaluateJobs();
          return { opened: r.opened, closed: r.closed };
        });
        await step('stages', () => alerts.evaluateStages(stagePartitions));
        await step('flushed', async () => ({ alerts: await alerts.flushUnpublished() }));
        await step('pruned', async () => ({ alerts: await alerts.pruneClosed(closedRetentionMs) }));
      },
      logger,
      intervalMs,
    );
  }
}
