/**
 * The consumer behind `tidemark events tail`: reads Tidemark topics from a chosen point and hands every message,
 * decoded or not, to `emit`, until `max` events were shown, nothing arrived for `idleMs`, or `signal` aborts.
 *
 * It never disturbs the stages: it joins a consumer group of its own (`tidemark-events-tail-…`, one per run, so
 * it is the group's only member and gets every partition), never commits an offset, and deletes its group when it
 * stops. Where it starts is explicit: the partitions' start offsets are looked up with the admin client before
 * reading (`earliest`: the low watermark; `latest`: the high watermark; a time: the first offset at or after it,
 * `fetchTopicOffsetsByTimestamp`) and every partition is sought there, so a message published after the tail said
 * it is ready is always shown, whatever the start.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { consumerFor, toKafkaOperationError, type Topic } from '@tidemark/bus';
import { describeError } from '@tidemark/domain';
import { jobOf, readEvent, type TailedEvent } from './event-format';

/** Where reading starts in every partition. */
export type StartPoint =
  { readonly kind: 'earliest' } | { readonly kind: 'latest' } | { readonly kind: 'time'; readonly at: Date };

export interface EventTailOptions {
  readonly kafka: Kafka;
  readonly topics: readonly Topic[];
  /**
   * True when the user named the topics: a missing one is an error. Otherwise (every record topic by default) topics
   * that do not exist yet are skipped with a note, and only none at all is an error.
   */
  readonly topicsNamed: boolean;
  readonly from: StartPoint;
  /** Show only this job's events (undecodable messages: by their key's job). */
  readonly jobId?: string;
  /** Stop after this many events were shown. */
  readonly max?: number;
  /** Stop when no message arrived for this long (counted from when reading starts). */
  readonly idleMs?: number;
  /** Stops the tail (SIGINT, SIGTERM). */
  readonly signal: AbortSignal;
  readonly emit: (event: TailedEvent) => void;
  readonly log: (message: string) => void;
  /** Default: `tidemark-events-tail-<host>-<pid>-<random>`. */
  readonly groupId?: string;
}

export interface EventTailResult {
  /** Events shown (after the `--job` filter). */
  readonly shown: number;
  /** Messages read, shown or not. */
  readonly read: number;
  /** Of the shown events, how many did not decode. */
  readonly undecodable: number;
  readonly stoppedBy: 'max' | 'idle' | 'signal';
}

/** A consumer group id no stage uses. */
export function tailGroupId(): string {
  return `tidemark-events-tail-${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

async function adminCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKafkaOperationError(err, what);
  }
}

/** The offset to start each partition of `topic` at. */
async function startOffsets(
  admin: Admin,
  topic: string,
  from: StartPoint,
): Promise<{ partition: number; offset: string }[]> {
  if (from.kind === 'time') {
    return adminCall(`offsets of ${topic} at ${from.at.toISOString()}`, () =>
      admin.fetchTopicOffsetsByTimestamp(topic, from.at.getTime()),
    );
  }
  const offsets = await adminCall(`offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
  return offsets.map((o) => ({ partition: o.partition, offset: from.kind === 'earliest' ? o.low : o.high }));
}

export class TopicNotFoundError extends Error {
  override readonly name = 'TopicNotFoundError';
}

/** Reads until `max`, `idleMs` or the signal; see the module comment. */
export async function tailEvents(options: EventTailOptions): Promise<EventTailResult> {
  let names = options.topics.map((t) => t.name);
  const groupId = options.groupId ?? tailGroupId();
  const admin = options.kafka.admin();
  let consumer: Consumer | undefined;
  await adminCall('connect admin client', () => admin.connect());
  try {
    const existing = new Set(await adminCall('list topics', () => admin.listTopics()));
    const missing = names.filter((n) => !existing.has(n));
    if (missing.length > 0 && (options.topicsNamed || missing.length === names.length)) {
      throw new TopicNotFoundError(
        `no topic ${missing.join(', ')} on the brokers (is TIDEMARK_TOPIC_PREFIX / --prefix right? topics are created by the services at start-up)`,
      );
    }
    if (missing.length > 0) options.log(`skipping topics that do not exist (yet): ${missing.join(', ')}`);
    const present = options.topics.filter((t) => existing.has(t.name));
    names = present.map((t) => t.name);
    const seeks: { topic: string; partition: number; offset: string }[] = [];
    for (const topic of names)
      for (const o of await startOffsets(admin, topic, options.from)) seeks.push({ topic, ...o });

    let shown = 0;
    let read = 0;
    let undecodable = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    let finish: (why: EventTailResult['stoppedBy']) => void = () => undefined;
    let fail: (err: Error) => void = () => undefined;
    const stopped = new Promise<EventTailResult['stoppedBy']>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    let done = false;
    const stop = (why: EventTailResult['stoppedBy']) => {
      if (done) return;
      done = true;
      clearTimeout(idleTimer);
      finish(why);
    };
    const armIdle = () => {
      if (options.idleMs === undefined || done) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => stop('idle'), options.idleMs);
    };
    const onAbort = () => stop('signal');
    if (options.signal.aborted) onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });

    consumer = consumerFor(options.kafka, { groupId, topics: present });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(new Error(`the Kafka consumer stopped: ${describeError(payload.error)}`));
    });
    await adminCall('connect consumer', () => consumer!.connect());
    await adminCall(`subscribe to ${names.join(', ')}`, () =>
      consumer!.subscribe({ topics: names, fromBeginning: options.from.kind !== 'latest' }),
    );
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (done) return;
        read++;
        armIdle();
        const event = readEvent({
          topic,
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key,
          value: message.value,
          headers: message.headers,
        });
        if (options.jobId !== undefined && jobOf(event) !== options.jobId) return;
        shown++;
        if (!event.ok) undecodable++;
        options.emit(event);
        if (options.max !== undefined && shown >= options.max) stop('max');
      },
    });
    for (const s of seeks) consumer.seek(s);
    const from =
      options.from.kind === 'time'
        ? `the first message at or after ${options.from.at.toISOString()}`
        : options.from.kind;
    options.log(
      `reading ${names.length} topic(s), ${seeks.length} partition(s), from ${from} (group ${groupId}, no commits)`,
    );
    armIdle();
    try {
      const stoppedBy = await stopped;
      return { shown, read, undecodable, stoppedBy };
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    // The group never committed anything; deleting it leaves no trace among the stages' groups.
    if (consumer !== undefined) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
