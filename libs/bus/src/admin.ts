/**
 * Creates Tidemark's topics with their declared configuration and checks topics that already exist. Topics are
 * never left to broker auto-creation (1 MiB messages, default partitions).
 *
 * Contract of {@link ensureTopics}:
 * - a missing topic is created with its partitions, `max.message.bytes`, `retention.ms` and `cleanup.policy`;
 *   another process creating it at the same time is fine (idempotent);
 * - an existing topic whose `max.message.bytes` is lower than declared is raised to the declared value (other
 *   topic-level overrides are kept), or, with `alter: false`, reported as a {@link TopicConfigError};
 * - anything else that differs (fewer partitions, another cleanup policy, shorter retention) is returned as a
 *   warning and never changed: changing partitions moves keys between partitions and breaks per-job order.
 */
import { ConfigResourceTypes, ConfigSource, type Admin, type ConfigEntries, type Kafka } from 'kafkajs';
import { TopicConfigError } from './bus-errors';
import { toKafkaOperationError } from './errors';
import type { Topic } from './topics';
import { retry, RETRY_DEFAULT } from '@tidemark/util';

/** The topic-level configs Tidemark declares, as Kafka config entries. */
export function topicConfigEntries(topic: Topic): { name: string; value: string }[] {
  return [
    { name: 'max.message.bytes', value: String(topic.maxMessageBytes) },
    { name: 'retention.ms', value: String(topic.retentionMs) },
    { name: 'cleanup.policy', value: topic.cleanupPolicy },
  ];
}

/** What {@link ensureTopics} did. */
export interface EnsureTopicsReport {
  /** Topics this call created. */
  readonly created: string[];
  /** Topics that existed already (or were created concurrently by another process). */
  readonly existing: string[];
  /** Topics whose `max.message.bytes` was raised. */
  readonly altered: { topic: string; from: number; to: number }[];
  /** Differences left as they are (see the module comment). */
  readonly warnings: string[];
}

/** Options of {@link ensureTopics}. */
export interface EnsureTopicsOptions {
  /** Replication factor of created topics; default -1, the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
  /** Raise a too-low `max.message.bytes` (default true); when false, throw {@link TopicConfigError} instead. */
  readonly alter?: boolean;
  /** Timeout for creation and leader election, ms; default 30 s. */
  readonly timeoutMs?: number;
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw toKafkaOperationError(err, 'connect admin client');
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKafkaOperationError(err, operation);
  }
}

/** The configs of `names`, by topic name. */
export async function describeTopicConfigs(
  admin: Admin,
  names: readonly string[],
): Promise<Map<string, ConfigEntries[]>> {
  const response = await call('describe topic configs', () =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    }),
  );
  const out = new Map<string, ConfigEntries[]>();
  for (const resource of response.resources) {
    if (resource.errorCode !== 0) {
      throw new TopicConfigError(
        resource.resourceName,
        `describeConfigs failed: ${resource.errorMessage} (${resource.errorCode})`,
      );
    }
    out.set(resource.resourceName, resource.configEntries);
  }
  return out;
}

function configValue(entries: readonly ConfigEntries[], name: string): string | undefined {
  return entries.find((e) => e.configName === name)?.configValue;
}

/** Creates missing topics and checks existing ones (see the module comment). */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly Topic[],
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsReport> {
  if (topics.length === 0) return { created: [], existing: [], altered: [], warnings: [] };
  const timeout = options.timeoutMs ?? 30_000;
  // Idempotent as a whole (list, create what is missing, check), so a retriable failure repeats it all: just after
  // a creation, metadata may not have reached the broker that answers (UNKNOWN_TOPIC_OR_PARTITION). A topic
  // created by the failed attempt is then reported as existing.
  return retry(() => ensureTopicsOnce(kafka, topics, options, timeout), {
    what: 'ensure topics',
    maxAttempts: 5,
    backoff: RETRY_DEFAULT.with({ initialMs: 500 }),
  });
}

async function ensureTopicsOnce(
  kafka: Kafka,
  topics: readonly Topic[],
  options: EnsureTopicsOptions,
  timeout: number,
): Promise<EnsureTopicsReport> {
  const report: EnsureTopicsReport = { created: [], existing: [], altered: [], warnings: [] };
  return withAdmin(kafka, async (admin) => {
    const present = new Set(await call('list topics', () => admin.listTopics()));
    const missing = topics.filter((t) => !present.has(t.name));
    if (missing.length > 0) {
      const allNew = await call(`create topics ${missing.map((t) => t.name).join(', ')}`, () =>
        admin.createTopics({
          waitForLeaders: true,
          timeout,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: options.replicationFactor ?? -1,
            configEntries: topicConfigEntries(t),
          })),
        }),
      );
      // false: at least one was created concurrently by someone else; the checks below cover it either way.
      const after = allNew ? undefined : new Set(await call('list topics', () => admin.listTopics()));
      for (const t of missing)
        (after === undefined || after.has(t.name) ? report.created : report.existing).push(t.name);
    }
    for (const t of topics) if (present.has(t.name)) report.existing.push(t.name);

    const configs = await describeTopicConfigs(
      admin,
      topics.map((t) => t.name),
    );
    const metadata = await call('fetch topic metadata', () =>
      admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) }),
    );
    for (const t of topics) {
      const entries = configs.get(t.name) ?? [];
      const maxBytes = Number(configValue(entries, 'max.message.bytes'));
      if (!(maxBytes >= t.maxMessageBytes)) {
        if (options.alter === false) {
          throw new TopicConfigError(
            t.name,
            `max.message.bytes is ${maxBytes}, Tidemark needs at least ${t.maxMessageBytes}`,
          );
        }
        await raiseMaxMessageBytes(admin, t, entries);
        report.altered.push({ topic: t.name, from: maxBytes, to: t.maxMessageBytes });
      }
      const policy = configValue(entries, 'cleanup.policy');
      if (policy !== t.cleanupPolicy)
        report.warnings.push(`${t.name}: cleanup.policy is ${policy}, declared ${t.cleanupPolicy}`);
      const retention = Number(configValue(entries, 'retention.ms'));
      if (retention !== -1 && retention < t.retentionMs) {
        report.warnings.push(
          `${t.name}: retention.ms is ${retention}, declared ${t.retentionMs} (consumers may lose data when down that long)`,
        );
      }
      const partitions = metadata.topics.find((m) => m.name === t.name)?.partitions.length ?? 0;
      if (partitions < t.partitions) {
        report.warnings.push(
          `${t.name}: ${partitions} partitions, declared ${t.partitions} (not changed: it would reorder keys)`,
        );
      }
    }
    return report;
  });
}

/**
 * Raises `max.message.bytes` of an existing topic. kafkajs only has the non-incremental AlterConfigs API, which
 * resets every topic-level override it is not given, so the current overrides are sent along.
 */
async function raiseMaxMessageBytes(
  admin: Admin,
  topic: Topic,
  entries: readonly ConfigEntries[],
): Promise<void> {
  const overrides = entries.filter(
    (e) => e.configSource === ConfigSource.TOPIC_CONFIG && e.configName !== 'max.message.bytes',
  );
  const hidden = overrides.filter((e) => e.isSensitive).map((e) => e.configName);
  if (hidden.length > 0) {
    throw new TopicConfigError(
      topic.name,
      `cannot raise max.message.bytes to ${topic.maxMessageBytes} without losing the sensitive overrides ` +
        `${hidden.join(', ')}: raise it with kafka-configs.sh --alter --add-config`,
    );
  }
  const response = await call(`raise max.message.bytes of ${topic.name}`, () =>
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic.name,
          configEntries: [
            ...overrides.map((e) => ({ name: e.configName, value: e.configValue })),
            { name: 'max.message.bytes', value: String(topic.maxMessageBytes) },
          ],
        },
      ],
    }),
  );
  for (const r of (response as { resources?: { errorCode: number; errorMessage: string | null }[] })
    .resources ?? []) {
    if (r.errorCode !== 0) {
      throw new TopicConfigError(
        topic.name,
        `alterConfigs failed: ${r.errorMessage ?? 'no message'} (${r.errorCode})`,
      );
    }
  }
}

/** Deletes topics (tests clean up their prefixed topics with it). Missing topics are ignored. */
export async function deleteTopics(
  kafka: Kafka,
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  if (names.length === 0) return;
  await withAdmin(kafka, async (admin) => {
    const present = new Set(await call('list topics', () => admin.listTopics()));
    const existing = names.filter((n) => present.has(n));
    if (existing.length > 0)
      await call('delete topics', () => admin.deleteTopics({ topics: existing, timeout: timeoutMs }));
  });
}
