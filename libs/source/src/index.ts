/**
 * @tidemark/source (type:adapter): reading the source deployment. Collection scans and document fetches as raw
 * BSON, namespace listing with options, indexes and size estimates, server facts, and the oplog tail with its gap
 * check ("backup requires a resync") and transparent resume. See README.md.
 */
export * from './source-error';
export * from './op-time-bson';
export * from './raw-bson';
export * from './oplog-entry';
export * from './oplog-selection';
export * from './oplog-bounds';
export * from './source-info';
export * from './list-source-namespaces';
export * from './scan-collection';
export * from './fetch-documents';
export * from './tail-cursor-failures';
export * from './oplog-tail';
export * from './mongo-source';
