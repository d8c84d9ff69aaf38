/** Injection tokens of job-state (explicit `@Inject`: tsx emits no decorator metadata). */

/** `PhasesTopics`: `tidemark.phases` and its dead-letter topic, resolved. */
export const PHASES_TOPICS = Symbol('job-state.phases-topics');
/** `PhaseDeadLetters`: sends undecodable phase reports to the dead-letter topic. */
export const PHASE_DEAD_LETTERS = Symbol('job-state.phase-dead-letters');
