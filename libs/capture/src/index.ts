/**
 * @tidemark/capture (type:feature): the agent's sync logic over ports, with no driver imports. Initial sync
 * (scan into initial-sync slices, catalog), the oplog shipper (back-to-back oplog slices with back-pressure), the
 * missing-documents fetch, the per-job supervisor with each job's read limit, start-up recovery, and command
 * handling. See README.md.
 */
export * from './ports';
export * from './agent-settings';
export * from './sync-job';
export * from './bounded-pool';
export * from './read-limits';
export * from './transfer-progress';
export * from './alerts';
export * from './oplog-shipper';
export * from './tail-keeper';
export * from './initial-sync';
export * from './missing-fetch';
export * from './agent-supervisor';
export * from './agent-command';
export * from './command-gate';
export * from './commit-floor';
export * from './command-handler';
export * from './agent-recovery';
