/**
 * Errors of the snapshot stores. Each is a `TidemarkError` that says whether repeating the call can succeed.
 * (A missing block is `BlockMissingError` and an unknown record version `UnknownFormatVersionError`, both from
 * their owners.)
 */
import { TidemarkError, type CauseOption } from '@tidemark/domain';

/** A job id, snapshot id, block address or lock owner a store refuses (it could escape or collide). Not retriable. */
export class InvalidStoreKeyError extends TidemarkError {
  override readonly name: string = 'InvalidStoreKeyError';
  constructor(
    /** `jobId`, `snapshotId`, `address` or `owner`. */
    readonly what: string,
    /** The value as given, cut to 80 characters for the message. */
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid ${what} ${showValue(value)}: ${rule}`, { retriable: false });
  }
}

/**
 * A stored snapshot record (or lock file) that is not what this build writes: bad JSON, a missing or mistyped
 * field, a record whose ids disagree with where it is. Never skipped or repaired; not retriable.
 */
export class SnapshotRecordInvalidError extends TidemarkError {
  override readonly name: string = 'SnapshotRecordInvalidError';
  constructor(
    /** Where the record is (`<database>.<collection> _id ...` or a file path). */
    readonly where: string,
    readonly reason: string,
    options: CauseOption = {},
  ) {
    super(`snapshot store record at ${where} is invalid: ${reason}`, {
      retriable: false,
      cause: options.cause,
    });
  }
}

/**
 * A backend call failed. `retriable` follows the driver error's classification (network, throttling, 5xx: yes;
 * access denied, validation, unknown: no); when the store's own retries gave up on a retriable failure it stays
 * retriable: the store is unavailable now, and the caller may try the whole operation again later.
 */
export class SnapshotStoreUnavailableError extends TidemarkError {
  override readonly name: string = 'SnapshotStoreUnavailableError';
  constructor(
    /** What was being done, e.g. `putBlock`. */
    readonly operation: string,
    /** Where (bucket key, collection and `_id`, file path). */
    readonly location: string,
    /** The classification's reason. */
    readonly reason: string,
    options: { retriable: boolean; attempts?: number } & CauseOption,
  ) {
    super(
      `snapshot store ${operation} at ${location} failed` +
        `${options.attempts === undefined ? '' : ` after ${options.attempts} attempts`}: ${reason}`,
      { retriable: options.retriable, cause: options.cause },
    );
  }
}

function showValue(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  return value.length > 80 ? `${shown} (${value.length} characters)` : shown;
}

/**
 * Decides whether a driver failure can succeed when retried, with a reason: the apps pass the workspace's tables
 * (`classifyMongoError` of `@tidemark/mongo`, `classifyS3Error` of `@tidemark/s3`).
 */
export type StoreErrorClassifier = (err: unknown) => { readonly retriable: boolean; readonly reason: string };
