/**
 * The snapshot stores behind `@tidemark/snapshots`' `SnapshotStore` port: `blockstore` (MongoDB), `s3` (blocks in a
 * bucket, metadata in MongoDB) and `filesystem` (files under a directory).
 */
export {};
