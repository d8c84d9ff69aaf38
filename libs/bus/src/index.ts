/**
 * @tidemark/bus (type:adapter): Tidemark's Kafka bus. Topic declarations, Avro single-object encoding of the
 * records in `schemas/`, kafkajs clients with Tidemark's settings, topic creation, dead letters and the
 * classification of kafkajs errors.
 */
export * from './types';
export * from './bus-errors';
export {
  SchemaRegistry,
  schemaRegistry,
  type RecordSchemas,
  type SchemaVersion,
  type WriterLookup,
} from './schemas';
export { defaultSchemasDir, readSchemaSources, fixturePath, type SchemaSource } from './schema-files';
export {
  AvroCodec,
  defaultCodec,
  readFingerprint,
  SINGLE_OBJECT_HEADER_BYTES,
  SINGLE_OBJECT_MARKER,
  type Decoded,
} from './codec';
export {
  crc64Avro,
  crc64AvroOfString,
  CRC64_AVRO_EMPTY,
  fingerprintToHex,
  parsingCanonicalForm,
} from './rabin-fingerprint';
export { fromFixtureJson, toFixtureJson, type FixtureFile } from './fixture-json';
export * from './keys';
export * from './topics';
export * from './kafka';
export * from './kafka-security';
export * from './admin';
export * from './errors';
export * from './dead-letter';
export * from './op-time-long';
export * from './phase-mapping';
export * from './slice-mapping';
export * from './committing-consumer';
export * from './consumer-lag';
export * from './partition-backoff';
export * from './alert-mapping';
export * from './snapshot-mapping';
export * from './restore-mapping';
export * from './audit-mapping';
export * from './kafka-log';
export * from './command-mapping';
export * from './kafka-command-publisher';
export * from './kafka-slice-publisher';
export * from './bus-slice-codec';
export * from './kafka-claim-checks';
