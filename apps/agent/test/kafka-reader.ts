/**
 * Test helper: reads record topics from the beginning with a fresh consumer group and keeps every decoded record,
 * in partition order, until stopped.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { consumerFor, defaultCodec, type RecordTopic } from '@tidemark/bus';
import type { RecordName, RecordTypes } from '@tidemark/bus';

export interface Received<R extends RecordName> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly value: RecordTypes[R];
}

export class TopicReader<R extends RecordName> {
  readonly received: Received<R>[] = [];
  private stopFn: (() => Promise<void>) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: readonly RecordTopic<R>[],
    private readonly record: R,
  ) {}

  async start(): Promise<void> {
    const consumer = consumerFor(this.kafka, {
      groupId: `it-agent-reader-${randomBytes(4).toString('hex')}`,
      topics: this.topics,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics.map((t) => t.name), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        this.received.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          value: defaultCodec().decodeAs(
            this.record,
            message.value!,
            `${topic}/${partition}@${message.offset}`,
          ),
        });
      },
    });
    this.stopFn = () => consumer.disconnect();
  }

  async stop(): Promise<void> {
    await this.stopFn?.();
  }

  /** Waits until `condition(received)` holds. */
  async until(
    condition: (received: Received<R>[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    const started = Date.now();
    while (!condition(this.received)) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} (${this.received.length} records received)`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
