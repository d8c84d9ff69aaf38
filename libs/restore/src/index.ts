/**
 * Restores: a snapshot, or a point in time inside the oplog window, written into a MongoDB deployment or a dump.
 * Plain TypeScript, no driver: the caller passes the snapshot reader, the target and the stored oplog (`ports.ts`).
 * The dump targets (`--dump DIR`, `--archive FILE`) and their reader are here too (docs/format.md, "Restore dumps").
 */
export * from './ports';
export * from './namespace-plan';
export * from './restore-errors';
export * from './restore-snapshot';
export * from './restore-point';
export * from './stored-oplog';
export * from './restore-point-in-time';
export * from './deployment-target';
export * from './mount';
export * from './dump-format';
export * from './dump-directory-target';
export * from './dump-archive-target';
export * from './dump-reader';
