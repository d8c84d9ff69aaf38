/**
 * What a store accepts as a job id, snapshot id, block address and lock owner: one rule for every backend, so a
 * job that moves between stores keeps its names, and no name can escape the filesystem store's root, collide in a
 * MongoDB `_id` (`<jobId>:<snapshotId>`, `<jobId>:<address>`) or split an S3 key.
 *
 * - job id: 1-64 of `[A-Za-z0-9_-]`, starting with a letter or digit (Tidemark's job ids are 8 of `[a-z0-9]`);
 * - snapshot id: 1-128 of `[A-Za-z0-9._-]`, starting with a letter or digit (so never `.` or `..`);
 * - address: 64 lowercase hex digits (a SHA-256);
 * - lock owner: 1-256 characters, no control characters (it is stored, never used as a name).
 */
import { InvalidStoreKeyError } from './store-errors';

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SNAPSHOT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ADDRESS = /^[0-9a-f]{64}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID.test(value);
}

export function isSnapshotId(value: unknown): value is string {
  return typeof value === 'string' && SNAPSHOT_ID.test(value);
}

export function isAddress(value: unknown): value is string {
  return typeof value === 'string' && ADDRESS.test(value);
}

export function checkJobId(value: unknown): string {
  if (!isJobId(value)) {
    throw new InvalidStoreKeyError('jobId', value, '1-64 of [A-Za-z0-9_-], starting with a letter or digit');
  }
  return value;
}

export function checkSnapshotId(value: unknown): string {
  if (!isSnapshotId(value)) {
    throw new InvalidStoreKeyError(
      'snapshotId',
      value,
      '1-128 of [A-Za-z0-9._-], starting with a letter or digit',
    );
  }
  return value;
}

export function checkAddress(value: unknown): string {
  if (!isAddress(value))
    throw new InvalidStoreKeyError('address', value, '64 lowercase hex digits (SHA-256)');
  return value;
}

export function checkOwner(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || CONTROL.test(value)) {
    throw new InvalidStoreKeyError('owner', value, '1-256 characters, no control characters');
  }
  return value;
}

/** A lock's time to live: a positive integer of ms, at most a day. */
export function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > 86_400_000) {
    throw new RangeError(`lock ttlMs must be an integer in 1..86400000, got ${String(ttlMs)}`);
  }
  return ttlMs;
}
