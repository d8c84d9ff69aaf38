/**
 * @tidemark/util: small infrastructure helpers with no domain knowledge: one backoff policy and the named
 * policies, one retrier, a queue bounded in items and bytes, a pool of reusable buffers, a token bucket (pacing a
 * reader to a rate), SHA-256 checksums, sleeping and timeouts, durable file writes.
 */
export * from './backoff';
export * from './backoff-policies';
export * from './retry';
export * from './byte-bounded-queue';
export * from './buffer-pool';
export * from './token-bucket';
export * from './checksum';
export * from './sleep';
export * from './deadline';
export * from './source-order';
export * from './raw-bson-elements';
export * from './integer-setting';
export * from './json-request';
export * from './keyed-mutex';
export * from './durable-file';
export * from './json-schema';
