/**
 * @tidemark/apply (type:feature): the oplog-applier's work as plain classes over ports: `ApplyLoop` (one bounded
 * turn of applying a job's stored oplog slices to its head, recording missing documents and requesting them) and
 * `ApplyScheduler` (every job in `applying-oplogs` or later, under its lease, round-robin; fatal failures alerted
 * once). The conformance suites of its stores are in `contracts.ts` (`@tidemark/apply-contract`, specs only).
 */
export * from './ports';
export * from './apply-loop';
export * from './apply-scheduler';
export * from './missing-batches';
export * from './slice-entries';
export * from './memory-lease-store';
export * from './memory-missing-document-store';
export * from './memory-job-phase-reader';
