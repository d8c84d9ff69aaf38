/**
 * The agent's loop over `tidemark.commands`: the bus's `CommittingConsumer` (the one consumer loop), with what the
 * agent needs on top of it as options:
 * - decode the `JobCommand`; one that cannot be decoded goes to `tidemark.commands.dlq` with the reason, then
 *   `AGENT_COMMAND_FAILED` is raised, then it is committed (the loop's rule for every topic);
 * - hand it to the agent's `CommandHandler`; a retriable failure (`retriable` flag) is retried on the same message
 *   after a backoff, nothing committed meanwhile; a command no retry can fix is alerted by the handler and
 *   committed; anything else thrown is a bug and halts the partition (never retried forever);
 * - commit through the `CommitFloor` (which keeps unfinished missing-document fetches uncommitted).
 */
import type { Kafka, Producer } from 'kafkajs';
import { CommitFloor, type CommandHandler, type CommitDecision } from '@tidemark/capture';
import {
  CommittingConsumer,
  PartitionBackoff,
  recordDecoder,
  sourceOf,
  type CommitPolicy,
  type ConsumerLog,
  type JobCommand,
  type RecordTopic,
} from '@tidemark/bus';
import type { StageMetrics } from '@tidemark/domain';
import { AGENT_COMMAND_RETRY, hasRetriableFlag } from '@tidemark/util';

export interface CommandConsumerOptions {
  readonly groupId: string;
  readonly topic: RecordTopic<'tidemark.commands.JobCommand'>;
  readonly handler: CommandHandler;
  /** Connected producer for dead letters. */
  readonly producer: Producer;
  readonly log: ConsumerLog;
  /** Counts failed commands by error class. */
  readonly metrics?: Pick<StageMetrics, 'failure'>;
  /** Raised after a command that cannot be decoded was dead-lettered, before it is committed. */
  readonly onUndecodable: (source: string, reason: string) => Promise<void>;
}

export type CommandConsumer = CommittingConsumer<JobCommand, CommitDecision>;

/** The `CommitFloor` as the loop's commit policy (a dead-lettered command neither holds nor releases). */
function floorPolicy(floor: CommitFloor): CommitPolicy<CommitDecision> {
  return {
    next: (topic, partition, offset, decision) => floor.handled(topic, partition, offset, decision ?? {}),
    reset: () => floor.reset(),
  };
}

export function commandConsumer(kafka: Kafka, options: CommandConsumerOptions): CommandConsumer {
  const { topic, handler } = options;
  return new CommittingConsumer({
    kafka,
    groupId: options.groupId,
    topics: [topic],
    decode: recordDecoder('tidemark.commands.JobCommand'),
    handle: (command) => handler.handle(command),
    producer: options.producer,
    afterDeadLetter: (message, reason) => options.onUndecodable(sourceOf(message), reason),
    commits: floorPolicy(new CommitFloor()),
    isRetriable: hasRetriableFlag,
    log: options.log,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    partitionsConsumedConcurrently: topic.partitions,
    backoff: new PartitionBackoff(AGENT_COMMAND_RETRY),
    // Fetching missing documents can take long; the loop heartbeats meanwhile, and the session allows more.
    sessionTimeout: 60_000,
  });
}
