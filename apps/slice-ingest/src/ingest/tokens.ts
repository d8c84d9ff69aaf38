/** Injection tokens of slice-ingest's wiring (explicit `@Inject`/`inject`: tsx emits no decorator metadata). */

/** `IngestSettings` read from the environment. */
export const INGEST_SETTINGS = Symbol('slice-ingest.settings');
/** `MongoOplogStore` on the backup side, indexes ensured. */
export const OPLOG_STORE = Symbol('slice-ingest.oplog-store');
/** Connected idempotent producer for claim checks, dead letters and alerts. */
export const INGEST_PRODUCER = Symbol('slice-ingest.producer');
/** The running `CommittingConsumer` (a `PipelineHealth` for the readiness check). */
export const SLICE_INGEST_CONSUMER = Symbol('slice-ingest.consumer');
