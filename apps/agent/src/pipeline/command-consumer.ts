/**
 * The loop over `tidemark.commands` (plain kafkajs, so the commit is visible): decode the `JobCommand`, hand it to
 * the agent's `CommandHandler`, retry a retriable failure on the same message (heartbeating, nothing committed),
 * then commit through the `CommitFloor` (which keeps unfinished missing-document fetches uncommitted).
 */
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import {
  CommitFloor,
  type AgentLogger,
  type CommandHandler,
  type CommitDecision,
} from '@tidemark/agent-core';
import { consumerFor, defaultCodec, type RecordTopic } from '@tidemark/bus';
import { describeError } from '@tidemark/domain';
import { AGENT_COMMAND_RETRY, hasRetriableFlag, sleep } from '@tidemark/util';

export interface CommandConsumerOptions {
  readonly groupId: string;
  readonly topic: RecordTopic<'tidemark.commands.JobCommand'>;
  readonly handler: CommandHandler;
  readonly logger: AgentLogger;
  /** Raised for a command that cannot be decoded (the commands topic has no dead-letter topic). */
  readonly onUndecodable: (source: string, err: unknown) => Promise<void>;
}

const HEARTBEAT_MS = 3_000;

export class CommandConsumer {
  private consumer: Consumer | undefined;
  private readonly floor = new CommitFloor();
  private readonly stopping = new AbortController();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: CommandConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const { topic } = this.options;
    const consumer = consumerFor(this.kafka, {
      groupId: this.options.groupId,
      topics: [topic],
      sessionTimeout: 60_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => this.floor.reset());
    await consumer.connect();
    await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: topic.partitions,
      eachMessage: async ({ topic: name, partition, message, heartbeat }) => {
        const timer = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
        try {
          const decision = await this.handle(`${name}/${partition}@${message.offset}`, message);
          const next = this.floor.handled(name, partition, message.offset, decision);
          if (next !== undefined) await consumer.commitOffsets([{ topic: name, partition, offset: next }]);
        } finally {
          clearInterval(timer);
        }
      },
    });
  }

  /** Stops consuming; a command being retried stops waiting. Nothing more is committed. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('agent stopping'));
    await this.consumer?.disconnect();
  }

  private async handle(source: string, message: KafkaMessage): Promise<CommitDecision> {
    const { handler, logger } = this.options;
    if (message.value === null) return {};
    let record;
    try {
      record = defaultCodec().decodeAs('tidemark.commands.JobCommand', message.value, source);
    } catch (err) {
      await this.options.onUndecodable(source, err);
      return {};
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await handler.handle(record);
      } catch (err) {
        if (this.stopping.signal.aborted) throw err;
        if (!hasRetriableFlag(err)) {
          // CommandHandler turns every non-retriable failure into an alert; this is a bug, not a command problem.
          logger.event({ event: 'command-handler-bug', source, error: describeError(err) });
          throw err;
        }
        const delayMs = AGENT_COMMAND_RETRY.delayMs(attempt);
        logger.event({
          event: 'command-retry',
          source,
          commandId: record.commandId,
          attempt,
          delayMs,
          error: describeError(err),
        });
        await sleep(delayMs, this.stopping.signal);
      }
    }
  }
}
