/**
 * Injection tokens of the shell. Every constructor parameter in the apps uses `@Inject(<token>)` explicitly:
 * the code runs through tsx, which emits no decorator metadata.
 */

/** The service's `ServiceConfig`. */
export const SERVICE_CONFIG = Symbol('tidemark.service-config');
/** The service's `JsonLogger`. */
export const SERVICE_LOGGER = Symbol('tidemark.service-logger');
/** kafkajs `Kafka` instance created by `@tidemark/bus` (not connected by itself). */
export const KAFKA = Symbol('tidemark.kafka');
/** Connected kafkajs `Admin`; topics of the service were ensured through it at start-up. */
export const KAFKA_ADMIN = Symbol('tidemark.kafka-admin');
/** Connected `MongoClient` of the source deployment. */
export const SOURCE_MONGO = Symbol('tidemark.source-mongo');
/** Connected `MongoClient` of the backup side (oplog store, head databases, job views). */
export const BACKUP_MONGO = Symbol('tidemark.backup-mongo');
/** `S3Client`; the snapshot bucket was ensured at start-up. */
export const S3_CLIENT = Symbol('tidemark.s3-client');
/** The service's `ServiceMetrics` (its Prometheus registry, served on `GET /metrics`). */
export const SERVICE_METRICS = Symbol('tidemark.service-metrics');
