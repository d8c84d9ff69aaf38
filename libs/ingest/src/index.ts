/**
 * @tidemark/ingest (type:feature): the slice-ingest step over ports. A slice is checked before it is trusted
 * (schema, metadata, topic, key, checksum, sizes, BSON framing, catalog), stored once in the oplog store, and
 * announced by a claim check. No Kafka or MongoDB here: the app wires the bus and the stores in.
 */
export * from './slice-message';
export * from './ports';
export * from './ingest-outcome';
export * from './slice-store-error';
export * from './slice-ingestor';
export * from './slice-rejected-alert';
