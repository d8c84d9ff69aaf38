/**
 * The topics job-state reads through Nest microservices: `tidemark.phases` and its dead-letter topic.
 *
 * `@tidemark/bus` declares every topic once. Until its declaration of `tidemark.phases` names a dead-letter
 * topic, this module derives `tidemark.phases.dlq` with the bus's own conventions (dead-letter partition
 * class, 30 days, source limit plus headroom) so undecodable reports are not lost; once the bus declares it,
 * the bus's declaration is used and the fallback below is dead code to delete.
 */
import {
  DEAD_LETTER_HEADROOM_BYTES,
  partitionsFor,
  topicName,
  type DeadLetterTopicSpec,
  type RecordTopic,
  type Topic,
} from '@tidemark/bus';
import { topicList } from '@tidemark/bus';
import type { ServiceConfig } from '@tidemark/shell';

export interface PhasesTopics {
  /** `tidemark.phases`, with `deadLetterName` set. */
  readonly phases: RecordTopic<'tidemark.phases.PhaseChanged'>;
  /** Its dead-letter topic. */
  readonly deadLetter: Topic;
  /** True when the dead-letter topic is not (yet) declared by `@tidemark/bus` and was derived here. */
  readonly derived: boolean;
}

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

export function phasesTopics(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): PhasesTopics {
  const phases = config.topics.phases as RecordTopic<'tidemark.phases.PhaseChanged'>;
  if (phases.deadLetterName !== undefined) {
    const declared = topicList(config.topics).find((t) => t.name === phases.deadLetterName);
    if (declared === undefined)
      throw new Error(`${phases.deadLetterName} is named but not declared in @tidemark/bus`);
    return { phases, deadLetter: declared, derived: false };
  }
  const spec: DeadLetterTopicSpec = {
    base: `${phases.base}.dlq`,
    description: `Messages of ${phases.base} that job-state could not decode, with the reason.`,
    keyKind: 'source-key',
    keyDescription: `the original message's key`,
    partitionClass: 'dead-letter',
    retentionMs: THIRTY_DAYS_MS,
    maxMessageBytes: phases.maxMessageBytes + DEAD_LETTER_HEADROOM_BYTES,
    cleanupPolicy: 'delete',
    producers: ['job-state'],
    consumers: [],
    value: null,
    deadLetterOf: phases.base,
  };
  const deadLetter: Topic = Object.freeze({
    ...spec,
    name: topicName(spec.base, config.topicPrefix),
    partitions: partitionsFor(spec, env['TIDEMARK_TOPIC_PARTITIONS']),
    deadLetterName: undefined,
  });
  return { phases: Object.freeze({ ...phases, deadLetterName: deadLetter.name }), deadLetter, derived: true };
}
