/**
 * @tidemark/head-database-mongo (type:adapter): the head database on the backup-side MongoDB. The head registry
 * (`MongoHeadRegistry`: which head collections a sync has, what was built, the catalog), the writer the
 * head-builder fills them with (`MongoHeadWriter`), the `ApplyTarget` port on the head databases
 * (`MongoApplyTarget`), and the stores the apply loop of `@tidemark/head-database` works through: the per-job apply
 * lease (`MongoLeaseStore`, collection `leases`) and missing documents (`MongoMissingDocumentStore`,
 * `missing_documents`), all in the meta database; and the snapshotter's read access to a head
 * (`MongoHeadSource`, the `HeadSource` port of `@tidemark/snapshots`). `memory-*.ts` are real in-memory implementations for specs.
 */
export * from './mongo-head-registry';
export * from './mongo-head-writer';
export * from './raw-bson';
export * from './mongo-apply-target';
export * from './mongo-apply-target-error';
export * from './mongo-lease-store';
export * from './mongo-missing-document-store';
export * from './mongo-head-source';
export * from './mongo-fence-store';
export * from './mongo-apply-fence';
