/**
 * The snapshot stores behind `@tidemark/snapshots`' `SnapshotStore` port: `blockstore` (MongoDB), `s3` (blocks in a
 * bucket, metadata in MongoDB) and `filesystem` (files under a directory). Layouts: docs/format.md, "Snapshot
 * stores".
 */
export * from './store-errors';
export * from './store-keys';
export {
  SNAPSHOT_RECORD_FORMAT,
  SNAPSHOT_LOCK_FORMAT,
  BLOCK_FORMAT,
  BLOCK_PART_FORMAT,
  BLOCK_OBJECT_FORMAT,
} from './record-codec';
export { FS_ERROR_RULES } from './fs-errors';
export { FileSystemSnapshotStore, type FileSystemSnapshotStoreOptions } from './filesystem-snapshot-store';
export { driverMongoClassifier } from './mongo-guard';
export {
  MongoSnapshotMetadata,
  DEFAULT_SNAPSHOTS_DATABASE,
  SNAPSHOTS_COLLECTION,
  SNAPSHOT_LOCKS_COLLECTION,
} from './mongo-snapshot-metadata';
export {
  MongoBlockstore,
  SNAPSHOT_BLOCKS_COLLECTION,
  SNAPSHOT_BLOCK_PARTS_COLLECTION,
  DEFAULT_BLOCK_PART_BYTES,
  type MongoBlockstoreOptions,
} from './mongo-blockstore';
export {
  S3SnapshotStore,
  SNAPSHOT_BLOCK_OBJECTS_COLLECTION,
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_PART_BYTES,
  type S3SnapshotStoreOptions,
} from './s3-snapshot-store';
export { createSnapshotStore, type SnapshotStoreDeps } from './create-snapshot-store';
