export * from './mongo-head-registry';
export * from './memory-head-registry';
export * from './mongo-head-writer';
export * from './raw-bson';
export * from './memory-head-writer';
