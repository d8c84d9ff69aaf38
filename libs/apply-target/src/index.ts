/**
 * @tidemark/apply-target (type:adapter): the oplog-applier's adapters on the backup-side MongoDB: the
 * `ApplyTarget` port on the head databases (`MongoApplyTarget`), and the stores the apply loop of
 * `@tidemark/apply` works through (matched structurally; adapters do not import features): the per-job apply lease
 * (`MongoLeaseStore`, collection `leases`), missing documents (`MongoMissingDocumentStore`, `missing_documents`) and
 * the jobs to apply (`MongoJobPhaseReader` over job-state's `jobs`), all in the meta database.
 */
export * from './mongo-apply-target';
export * from './mongo-apply-target-error';
export * from './mongo-lease-store';
export * from './mongo-missing-document-store';
export * from './mongo-job-phase-reader';
