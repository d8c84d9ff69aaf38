/**
 * @tidemark/oplog: MongoDB oplog apply semantics (i, u as $v:1 modifier / replacement / $v:2 diff, d, n, c, applyOps
 * transactions) through the {@link ApplyTarget} port. One applier serves the head database and point-in-time
 * restore.
 *
 * The conformance suite `describeApplyTarget` is not exported here (production code must not load `node:test`):
 * specs import `./apply-target.contract` (in this library) or `@tidemark/oplog-apply-contract` (elsewhere).
 */
export * from './apply-target';
export * from './applier';
export * from './commands';
export * from './entry';
export * from './errors';
export * from './id-key';
export * from './memory-target';
export * from './modifier-apply';
export * from './transaction-buffer';
export * from './v1-modifier';
export * from './v2-diff';
