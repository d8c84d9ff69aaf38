/** Injection tokens of job-state (explicit `@Inject`: tsx emits no decorator metadata). */

/** The running events consumer (`jobEventsConsumer`): folds `tidemark.phases` and `tidemark.alerts`. */
export const EVENTS_CONSUMER = Symbol('job-state.events-consumer');
/** The idempotent kafkajs producer of commands and job-state's own phase reports. */
export const COMMAND_PRODUCER = Symbol('job-state.command-producer');
/** The one jobs repository (`MongoJobRepository` over the backup MongoClient) the services and `/metrics` share. */
export const JOB_REPOSITORY = Symbol('job-state.job-repository');
/** The one `StoreBackupData` (head registry, head writer, oplog store) the jobs and alerts services share. */
export const BACKUP_DATA = Symbol('job-state.backup-data');
/** The one snapshot catalog (`MongoSnapshotCatalog`, `<meta>.snapshots`) the jobs, restores and alerts services share. */
export const SNAPSHOT_CATALOG = Symbol('job-state.snapshot-catalog');
/** The one restore catalog (`MongoRestoreCatalog`, `<meta>.restores`) the restores and alerts services share. */
export const RESTORE_CATALOG = Symbol('job-state.restore-catalog');
/** The jobs repository `/metrics` counts jobs by state and jobs needing a resync through. */
export const JOB_METRICS = Symbol('job-state.job-metrics');
/** The Backup page's files (`page/page-assets.ts`), read at start-up. */
export const PAGE_ASSETS = Symbol('job-state.page-assets');
/** The shared poll behind the page's live stream (`ProjectFeed` of `@tidemark/jobs`). */
export const PROJECT_FEED = Symbol('job-state.project-feed');
