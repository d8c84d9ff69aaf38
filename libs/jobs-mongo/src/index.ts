/**
 * @tidemark/jobs-mongo (type:adapter): the `jobs` collection of the meta database, which job-state owns. The
 * collection name and the job document layout are declared here once; `MongoJobRepository` is the `JobRepository`
 * of `@tidemark/jobs` (job-state's reads and writes) and `MongoJobPhaseReader` the `JobPhaseReader` of
 * `@tidemark/head-database` (the oplog-applier's read of which jobs apply oplogs).
 */
export * from './job-document';
export * from './mongo-job-repository';
export * from './mongo-job-phase-reader';
export * from './mongo-snapshot-catalog';
export * from './mongo-snapshot-job-source';
export * from './mongo-restore-catalog';
export * from './mongo-alert-store';
