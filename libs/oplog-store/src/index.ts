export * from './memory-oplog-store';
export * from './mongo-oplog-store';
