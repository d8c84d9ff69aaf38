/**
 * A consumer group's lag per topic and partition: how many messages the group has still to read, from the group's
 * committed offset and the partition's high watermark, both read through the admin client (so a stopped group's
 * lag is still known). A group with no committed offset on a partition starts at its beginning (every Tidemark
 * consumer reads `fromBeginning`), so its lag counts from the partition's low watermark; a committed offset below
 * the low watermark (retention removed messages) also counts from there.
 */
import type { Admin } from 'kafkajs';
import { toKafkaOperationError } from './errors';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (the next message it reads); null when it committed none. */
  readonly committed: bigint | null;
  /** The partition's high watermark (the offset the next produced message gets). */
  readonly high: bigint;
  /** Messages not yet read by the group: high - max(committed, low), never below 0. */
  readonly lag: bigint;
}

/** The lag of `groupId` on every partition of `topics`, ordered by topic and partition. */
export async function consumerLag(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  if (topics.length === 0) return [];
  const what = `consumer lag of ${groupId}`;
  try {
    const committedByTopic = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const out: PartitionLag[] = [];
    for (const topic of [...topics].sort()) {
      const committed = new Map<number, string>();
      for (const p of committedByTopic.find((t) => t.topic === topic)?.partitions ?? []) {
        committed.set(p.partition, p.offset);
      }
      const watermarks = await admin.fetchTopicOffsets(topic);
      for (const w of [...watermarks].sort((a, b) => a.partition - b.partition)) {
        const high = BigInt(w.high);
        const low = BigInt(w.low);
        const c = committed.get(w.partition);
        const committedOffset = c === undefined || BigInt(c) < 0n ? null : BigInt(c);
        const from = committedOffset === null || committedOffset < low ? low : committedOffset;
        out.push({
          topic,
          partition: w.partition,
          committed: committedOffset,
          high,
          lag: high > from ? high - from : 0n,
        });
      }
    }
    return out;
  } catch (err) {
    throw toKafkaOperationError(err, what, topics.join(', '));
  }
}
