/**
 * Which filesystem failures a retry can fix: one table (kafkajs `protocol/error.js` style). Full disks and
 * exhausted descriptors can clear up; everything else (permissions, I/O errors, a file where a directory should be,
 * unknown codes) is fatal.
 */
import { SnapshotStoreUnavailableError } from './store-errors';

export const FS_ERROR_RULES: Readonly<Record<string, { retriable: boolean; reason: string }>> = Object.freeze(
  {
    ENOSPC: { retriable: true, reason: 'no space left on the device' },
    EDQUOT: { retriable: true, reason: 'disk quota exceeded' },
    EMFILE: { retriable: true, reason: 'too many open files in the process' },
    ENFILE: { retriable: true, reason: 'too many open files in the system' },
    EAGAIN: { retriable: true, reason: 'resource temporarily unavailable' },
    EBUSY: { retriable: true, reason: 'resource busy' },
    ETIMEDOUT: { retriable: true, reason: 'timed out (network filesystem)' },
    EACCES: { retriable: false, reason: 'permission denied' },
    EPERM: { retriable: false, reason: 'operation not permitted' },
    EROFS: { retriable: false, reason: 'read-only filesystem' },
    EIO: { retriable: false, reason: 'I/O error' },
    ENOTDIR: { retriable: false, reason: 'a file is where a directory should be' },
    EISDIR: { retriable: false, reason: 'a directory is where a file should be' },
  },
);

export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Wraps a filesystem error of `operation` at `location` as a `SnapshotStoreUnavailableError`. */
export function fsFailure(operation: string, location: string, err: unknown): SnapshotStoreUnavailableError {
  const code = errnoCode(err);
  const rule = code === undefined ? undefined : FS_ERROR_RULES[code];
  const message = err instanceof Error ? err.message : String(err);
  return new SnapshotStoreUnavailableError(
    operation,
    location,
    rule ? `${rule.reason} (${message})` : `unknown error (${message})`,
    { retriable: rule?.retriable ?? false, cause: err },
  );
}
