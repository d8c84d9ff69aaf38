/**
 * The Kafka side of an integration test: reading what the service under test published, publishing to it, and
 * removing the test's topics afterwards. Every test works under a topic prefix of its own
 * (`TIDEMARK_TOPIC_PREFIX`), so its topics are those named `<prefix>.…`.
 *
 * Specs import it as `@tidemark/bus-testing` (a path into this library, like `@tidemark/oplog-apply-contract`), not
 * through `@tidemark/testing`: that library is imported by feature specs, and adapters import features (the ports
 * they implement), so `@tidemark/testing` importing the bus would close a cycle (feature -> testing -> bus -> feature).
 */
import { randomBytes } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { deleteTopics } from '../admin';
import { defaultCodec } from '../codec';
import { consumerFor, createKafka, producerFor } from '../kafka';
import type { Topic } from '../topics';
import type { RecordName, RecordTypes } from '../types';

/** Reads a topic from the beginning with a group of its own, keeping every message. */
export class TopicReader {
  readonly messages: KafkaMessage[] = [];
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    readonly topic: Topic,
    groupId: string,
  ) {
    this.consumer = consumerFor(kafka, { groupId, topics: [topic] });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic.name], fromBeginning: true });
    await this.consumer.run({ eachMessage: async ({ message }) => void this.messages.push(message) });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** Every message so far, decoded as `record` with the workspace codec. */
  records<R extends RecordName>(record: R): RecordTypes[R][] {
    return this.messages.map((m) => defaultCodec().decodeAs(record, m.value!, this.topic.name));
  }
}

/** One test's Kafka client (id `<prefix>-test`), the readers and the producer it started, and their clean-up. */
export class TestKafka {
  readonly kafka: Kafka;
  private readonly readers: TopicReader[] = [];
  private connected: Producer | undefined;

  constructor(
    brokers: readonly string[],
    readonly prefix: string,
  ) {
    this.kafka = createKafka({ brokers, clientId: `${prefix}-test` });
  }

  /** A started reader of `topic`, in a group of its own (`<prefix>-reader-<random>`). */
  async reader(topic: Topic): Promise<TopicReader> {
    const reader = new TopicReader(
      this.kafka,
      topic,
      `${this.prefix}-reader-${randomBytes(3).toString('hex')}`,
    );
    await reader.start();
    this.readers.push(reader);
    return reader;
  }

  /** The test's producer, connected on first use. */
  async producer(): Promise<Producer> {
    if (this.connected === undefined) {
      this.connected = producerFor(this.kafka);
      await this.connected.connect();
    }
    return this.connected;
  }

  /** Stops the readers and the producer, then deletes the consumer `groups` and every topic of the test. */
  async cleanup(groups: readonly string[]): Promise<void> {
    for (const r of this.readers) await r.stop().catch(() => undefined);
    await this.connected?.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${this.prefix}.`));
    await admin.deleteGroups([...groups]).catch(() => undefined);
    await admin.disconnect();
    await deleteTopics(this.kafka, mine);
  }
}

export * from './fixture-events';
