/**
 * Restores: a snapshot, or a point in time inside the oplog window, written into a MongoDB deployment or a dump.
 * Plain TypeScript, no driver: the caller passes the snapshot reader, the target and the stored oplog (`ports.ts`).
 */
export * from './ports';
