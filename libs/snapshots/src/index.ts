/**
 * Snapshots of a job's head database: the manifest, the snapshot store port, chunking and block encoding, taking,
 * verifying, retention and grooming. Plain TypeScript, no driver: the stores live in `@tidemark/snapshot-stores`.
 */
export * from './manifest';
export * from './snapshot-store';
export * from './snapshot-errors';
export * from './head-source';
export * from './chunker';
export * from './block-codec';
export * from './compression-workers';
export * from './encryption-key';
export * from './manifest-codec';
export * from './memory-snapshot-store';
export * from './memory-head-source';
export * from './take-snapshot';
export * from './read-snapshot';
export * from './verify-snapshot';
export * from './retention';
export * from './groom';
export * from './snapshot-worker';
