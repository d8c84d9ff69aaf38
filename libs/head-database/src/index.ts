/**
 * @tidemark/head-database (type:feature): building and keeping the head database, as plain classes over ports.
 * `HeadBuilder` (head-builder: a job's head from its stored initial-sync slices, the catalog, fetched missing
 * documents, the source's indexes), `ApplyLoop` (oplog-applier: one bounded turn of applying a job's stored oplog
 * slices to its head, recording missing documents and requesting them) and `ApplyScheduler` (every job in
 * `applying-oplogs` or later, under its lease, round-robin; fatal failures alerted once; a job with a fence request
 * left alone) and `ApplyFenceHolder` (a snapshot's apply fence: the request, then the job's apply lease). The conformance suites
 * of its stores are in `contracts.ts` (`@tidemark/head-database-contract`, specs only).
 */
export * from './ports';
export * from './head-builder';
export * from './apply-loop';
export * from './apply-scheduler';
export * from './apply-fence';
export * from './database-recording-target';
export * from './missing-batches';
export * from './slice-entries';
export * from './memory-lease-store';
export * from './memory-fence-store';
export * from './memory-missing-document-store';
export * from './memory-job-phase-reader';
export * from './memory-head-registry';
export * from './memory-head-writer';
