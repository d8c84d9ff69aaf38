/** Injection tokens of job-state (explicit `@Inject`: tsx emits no decorator metadata). */

/** `EventTopics`: `tidemark.phases` (with its dead-letter topic) and `tidemark.alerts`, resolved. */
export const EVENT_TOPICS = Symbol('job-state.event-topics');
/** `KafkaDeadLetters`: sends undecodable phase reports to `tidemark.phases.dlq`. */
export const DEAD_LETTERS = Symbol('job-state.dead-letters');
/** The idempotent kafkajs producer of commands and job-state's own phase reports. */
export const COMMAND_PRODUCER = Symbol('job-state.command-producer');
