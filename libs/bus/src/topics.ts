/**
 * Every Kafka topic Tidemark uses, declared once: name, key, value record, partitions, retention,
 * `max.message.bytes` and cleanup policy, plus who produces and consumes it (documentation; docs/topics.md must
 * agree, a spec checks it). Topics are created by `ensureTopics` (admin.ts), never by broker auto-creation.
 *
 * Partitions: slices topics 6, control topics 3, dead letters 1 by default. `TIDEMARK_TOPIC_PARTITIONS` overrides
 * them: a number sets every topic (`12`), or a comma list of `<class>=<n>` / `<topic base name>=<n>`
 * (`slices=12,control=3,tidemark.phases=1`), classes being `slices`, `control` and `dead-letter`. Partition counts
 * must not be lowered or raised on a live system: the key → partition mapping changes and per-job order with it.
 */
import { DEFAULT_SLICE_LIMITS } from '@tidemark/domain';
import { TopicConfigError } from './bus-errors';
import { jobKey, projectKey, sliceKey, SYSTEM_KEY, type KeyKind } from './keys';
import type { RecordName, RecordTypes } from './types';

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `max.message.bytes` of slices topics: the domain's hard maximum slice size (`DEFAULT_SLICE_LIMITS.maxSliceBytes`,
 * 17 MiB so one incompressible 16 MiB document fits) plus 1 MiB for the encoding header, metadata, key and headers.
 */
export const SLICE_TOPIC_MAX_MESSAGE_BYTES = DEFAULT_SLICE_LIMITS.maxSliceBytes + 1 * MiB;
/** `max.message.bytes` of every other record topic (Kafka's default, made explicit). */
export const CONTROL_TOPIC_MAX_MESSAGE_BYTES = 1 * MiB;
/** Room for the dead-letter headers on top of the source topic's limit. */
export const DEAD_LETTER_HEADROOM_BYTES = 1 * MiB;

/** Partition classes that `TIDEMARK_TOPIC_PARTITIONS` can set together. */
export type PartitionClass = 'slices' | 'control' | 'dead-letter';

export const DEFAULT_PARTITIONS: Readonly<Record<PartitionClass, number>> = Object.freeze({
  slices: 6,
  control: 3,
  'dead-letter': 1,
});

/** Fields every topic declaration has. */
interface TopicSpecBase {
  /** Name without prefix, e.g. `tidemark.slices.oplog`. */
  readonly base: string;
  readonly description: string;
  readonly keyKind: KeyKind;
  readonly keyDescription: string;
  readonly partitionClass: PartitionClass;
  readonly retentionMs: number;
  readonly maxMessageBytes: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Apps that write it. */
  readonly producers: readonly string[];
  /** Apps that read it. */
  readonly consumers: readonly string[];
}

/** A topic whose values are single-object encoded records of type `R`. */
export interface RecordTopicSpec<R extends RecordName = RecordName> extends TopicSpecBase {
  readonly value: R;
  /** The key a record is sent with on this topic. (Method syntax on purpose: specs of all R share one type.) */
  keyOf(record: RecordTypes[R]): string;
  /**
   * Base name of this topic's dead-letter topic, if it has one. Every topic that is consumed has one: the
   * consumer loop (`CommittingConsumer`) refuses to read a topic without, since a message that cannot be decoded
   * goes there.
   */
  readonly deadLetter: string | undefined;
}

/** A dead-letter topic: the original bytes, key and headers of rejected messages plus `tidemark-dlq-*` headers. */
export interface DeadLetterTopicSpec extends TopicSpecBase {
  readonly value: null;
  /** Base name of the topic whose rejected messages land here. */
  readonly deadLetterOf: string;
}

export type TopicSpec = RecordTopicSpec | DeadLetterTopicSpec;

function recordTopic<R extends RecordName>(spec: RecordTopicSpec<R>): RecordTopicSpec<R> {
  return Object.freeze(spec);
}

function deadLetterTopic(source: RecordTopicSpec, consumers: readonly string[]): DeadLetterTopicSpec {
  return Object.freeze({
    base: `${source.base}.dlq`,
    description: `Messages of ${source.base} that failed checks (schema, checksum, size), with the reason.`,
    keyKind: 'source-key',
    keyDescription: `the original message's key`,
    partitionClass: 'dead-letter',
    retentionMs: 30 * DAY_MS,
    maxMessageBytes: source.maxMessageBytes + DEAD_LETTER_HEADROOM_BYTES,
    cleanupPolicy: 'delete',
    producers: source.consumers,
    consumers,
    value: null,
    deadLetterOf: source.base,
  });
}

const JOB_KEY = 'job id';

const slicesInitial = recordTopic({
  base: 'tidemark.slices.initial',
  description:
    'Initial-sync slices (collection data as of the backup start, or fetched missing documents) and the catalog slice that closes each transfer.',
  value: 'tidemark.slices.SliceProduced',
  keyKind: 'job-namespace',
  keyDescription: 'job id / namespace (`<jobId>/<db.collection>`); job id for CATALOG slices',
  keyOf: (r) => {
    if (r.kind === 'CATALOG') return sliceKey(r.jobId, null);
    if (r.kind !== 'INITIAL' || r.namespace === null) {
      throw new TopicConfigError(
        'tidemark.slices.initial',
        `carries INITIAL slices with a namespace and CATALOG slices, not ${r.kind}`,
      );
    }
    return sliceKey(r.jobId, r.namespace);
  },
  partitionClass: 'slices',
  retentionMs: 7 * DAY_MS,
  maxMessageBytes: SLICE_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['agent'],
  consumers: ['slice-ingest'],
  deadLetter: 'tidemark.slices.initial.dlq',
});

const slicesOplog = recordTopic({
  base: 'tidemark.slices.oplog',
  description: 'Oplog slices, in oplog order per job.',
  value: 'tidemark.slices.SliceProduced',
  keyKind: 'job',
  keyDescription: JOB_KEY,
  keyOf: (r) => {
    if (r.kind !== 'OPLOG')
      throw new TopicConfigError('tidemark.slices.oplog', `carries OPLOG slices only, not ${r.kind}`);
    return sliceKey(r.jobId, null);
  },
  partitionClass: 'slices',
  retentionMs: 7 * DAY_MS,
  maxMessageBytes: SLICE_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['agent'],
  consumers: ['slice-ingest'],
  deadLetter: 'tidemark.slices.oplog.dlq',
});

const slicesStored = recordTopic({
  base: 'tidemark.slices.stored',
  description: 'Claim checks: a slice is durable in the oplog store.',
  value: 'tidemark.slices.SliceStored',
  keyKind: 'job',
  keyDescription: JOB_KEY,
  keyOf: (r) => jobKey(r.jobId),
  partitionClass: 'slices',
  retentionMs: 30 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['slice-ingest'],
  consumers: ['head-builder', 'oplog-applier'],
  deadLetter: 'tidemark.slices.stored.dlq',
});

const phases = recordTopic({
  base: 'tidemark.phases',
  description: 'Initial-sync progress reported by every stage.',
  value: 'tidemark.phases.PhaseChanged',
  keyKind: 'job',
  keyDescription: JOB_KEY,
  keyOf: (r) => jobKey(r.jobId),
  partitionClass: 'control',
  retentionMs: 7 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['agent', 'slice-ingest', 'head-builder', 'oplog-applier'],
  consumers: ['job-state'],
  deadLetter: 'tidemark.phases.dlq',
});

const commands = recordTopic({
  base: 'tidemark.commands',
  description: 'Instructions from job-state to the pipeline.',
  value: 'tidemark.commands.JobCommand',
  keyKind: 'job',
  keyDescription: JOB_KEY,
  keyOf: (r) => jobKey(r.jobId),
  partitionClass: 'control',
  retentionMs: 7 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['job-state', 'oplog-applier'],
  consumers: ['agent', 'snapshotter'],
  deadLetter: 'tidemark.commands.dlq',
});

const snapshots = recordTopic({
  base: 'tidemark.snapshots',
  description: 'The life of each snapshot: started, completed, failed, expired, verified, deleted.',
  value: 'tidemark.snapshots.SnapshotEvent',
  keyKind: 'job',
  keyDescription: JOB_KEY,
  keyOf: (r) => jobKey(r.jobId),
  partitionClass: 'control',
  retentionMs: 30 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['snapshotter'],
  consumers: ['job-state'],
  deadLetter: 'tidemark.snapshots.dlq',
});

const restores = recordTopic({
  base: 'tidemark.restores',
  description:
    'The life of each restore: started, progressed (throttled), cancel requested, completed, failed, cancelled.',
  value: 'tidemark.restores.RestoreEvent',
  keyKind: 'job',
  keyDescription: JOB_KEY,
  keyOf: (r) => jobKey(r.jobId),
  partitionClass: 'control',
  retentionMs: 30 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['job-state'],
  consumers: [],
  deadLetter: undefined,
});

const alerts = recordTopic({
  base: 'tidemark.alerts',
  description: 'Alerts for operators (resync required, slice rejected, ...).',
  value: 'tidemark.alerts.AlertRaised',
  keyKind: 'job',
  keyDescription: `job id, or \`${SYSTEM_KEY}\` for alerts about no job`,
  keyOf: (r) => (r.jobId === null ? SYSTEM_KEY : jobKey(r.jobId)),
  partitionClass: 'control',
  retentionMs: 30 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['agent', 'slice-ingest', 'head-builder', 'oplog-applier', 'snapshotter', 'job-state'],
  consumers: ['job-state'],
  deadLetter: 'tidemark.alerts.dlq',
});

const audit = recordTopic({
  base: 'tidemark.audit',
  description:
    'The audit trail: every request to the API that changed something or was refused (who, what, when, from which state, why).',
  value: 'tidemark.audit.AuditEvent',
  keyKind: 'project',
  keyDescription: `project, or \`${SYSTEM_KEY}\` for requests about no project`,
  keyOf: (r) => projectKey(r.project),
  partitionClass: 'control',
  retentionMs: 90 * DAY_MS,
  maxMessageBytes: CONTROL_TOPIC_MAX_MESSAGE_BYTES,
  cleanupPolicy: 'delete',
  producers: ['job-state'],
  consumers: [],
  deadLetter: undefined,
});

/** Every topic, by id. The single declaration of Tidemark's topics. */
export const TOPIC_SPECS = Object.freeze({
  slicesInitial,
  slicesOplog,
  slicesStored,
  phases,
  commands,
  snapshots,
  restores,
  alerts,
  audit,
  slicesInitialDlq: deadLetterTopic(slicesInitial, ['job-state']),
  slicesOplogDlq: deadLetterTopic(slicesOplog, ['job-state']),
  slicesStoredDlq: deadLetterTopic(slicesStored, ['job-state']),
  phasesDlq: deadLetterTopic(phases, []),
  commandsDlq: deadLetterTopic(commands, []),
  snapshotsDlq: deadLetterTopic(snapshots, []),
  alertsDlq: deadLetterTopic(alerts, []),
});

export type TopicId = keyof typeof TOPIC_SPECS;

/** A declared topic with its concrete name (prefix applied) and partition count. */
export type Topic<S extends TopicSpec = TopicSpec> = S & {
  /** The name in Kafka: `<prefix>.<base>`, or `<base>` without a prefix. */
  readonly name: string;
  readonly partitions: number;
  /** Concrete name of the dead-letter topic, when the topic has one. */
  readonly deadLetterName: string | undefined;
};

/** A record topic carrying `R`. */
export type RecordTopic<R extends RecordName = RecordName> = Topic<RecordTopicSpec<R>>;

/** All topics, resolved. */
export type Topics = { readonly [K in TopicId]: Topic<(typeof TOPIC_SPECS)[K]> };

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_NAME = 249;

/**
 * The Kafka name of topic `base` under `prefix` (for test isolation): `<prefix>.<base>`, or `base` when the
 * prefix is empty or undefined. Throws {@link TopicConfigError} for characters Kafka does not allow.
 */
export function topicName(base: string, prefix?: string): string {
  const name = prefix === undefined || prefix === '' ? base : `${prefix}.${base}`;
  if (!TOPIC_NAME.test(name) || name.length > MAX_TOPIC_NAME || name === '.' || name === '..') {
    throw new TopicConfigError(
      name,
      `invalid topic name: use [a-zA-Z0-9._-], at most ${MAX_TOPIC_NAME} characters`,
    );
  }
  return name;
}

/** Parses `TIDEMARK_TOPIC_PARTITIONS` (see the module comment) into a lookup for one topic. */
export function partitionsFor(spec: TopicSpec, setting: string | undefined): number {
  let chosen = DEFAULT_PARTITIONS[spec.partitionClass];
  if (setting === undefined || setting.trim() === '') return chosen;
  const parseCount = (text: string): number => {
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 1 || n > 10_000) {
      throw new TopicConfigError(
        undefined,
        `TIDEMARK_TOPIC_PARTITIONS: "${text}" is not a partition count (1..10000)`,
      );
    }
    return n;
  };
  if (/^\s*\d+\s*$/.test(setting)) return parseCount(setting);
  let byClass: number | undefined;
  let byTopic: number | undefined;
  for (const entry of setting.split(',')) {
    const [rawName, rawCount, ...rest] = entry.split('=');
    const name = (rawName ?? '').trim();
    if (rawCount === undefined || rest.length > 0 || name === '') {
      throw new TopicConfigError(
        undefined,
        `TIDEMARK_TOPIC_PARTITIONS: "${entry}" is not <class|topic>=<count>`,
      );
    }
    const count = parseCount(rawCount);
    if (name === spec.partitionClass) byClass = count;
    else if (name === spec.base) byTopic = count;
    else if (!(name in DEFAULT_PARTITIONS) && !Object.values(TOPIC_SPECS).some((s) => s.base === name)) {
      throw new TopicConfigError(undefined, `TIDEMARK_TOPIC_PARTITIONS: unknown class or topic "${name}"`);
    }
  }
  chosen = byTopic ?? byClass ?? chosen;
  return chosen;
}

/** Options of {@link resolveTopics}. */
export interface ResolveTopicsOptions {
  /** Prefix for every name (tests use a unique one per run). */
  readonly prefix?: string;
  /** Where to read `TIDEMARK_TOPIC_PARTITIONS` from; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Every declared topic with concrete names and partition counts. */
export function resolveTopics(options: ResolveTopicsOptions = {}): Topics {
  const setting = (options.env ?? process.env)['TIDEMARK_TOPIC_PARTITIONS'];
  const entries = Object.entries(TOPIC_SPECS).map(([id, spec]) => {
    const deadLetterBase = spec.value === null ? undefined : spec.deadLetter;
    const topic = {
      ...spec,
      name: topicName(spec.base, options.prefix),
      partitions: partitionsFor(spec, setting),
      deadLetterName: deadLetterBase === undefined ? undefined : topicName(deadLetterBase, options.prefix),
    };
    return [id, Object.freeze(topic)] as const;
  });
  return Object.freeze(Object.fromEntries(entries)) as unknown as Topics;
}

/** The topics as a list, in declaration order. */
export function topicList(topics: Topics): Topic[] {
  return Object.values(topics) as Topic[];
}
