/**
 * How `MongoApplyTarget` reports a failure: every driver error leaves wrapped in {@link MongoApplyTargetError},
 * naming the operation and namespace, with the server's code, and `retriable` as the injected classifier says.
 */
import { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { TidemarkError } from '@tidemark/domain';

/** Server error codes the target handles itself ("not found" / "already done" answers, and FerretDB gaps). */
export const MONGO_CODES = Object.freeze({
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  NamespaceExists: 48,
  DuplicateKey: 11000,
  ImmutableField: 66,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NotImplemented: 238,
});

/** Decides whether a driver failure can succeed when retried. */
export type MongoErrorClassifier = (err: unknown) => boolean;

/**
 * The classifier used when the app passes none: only what the driver itself calls transient (network errors, no
 * reachable primary, the `RetryableWriteError` / `ResetPool` labels). The apps pass the workspace's table
 * (`isRetriableError` of `@tidemark/service-shell`, which consults `@tidemark/mongo`'s `MONGO_ERROR_RULES`).
 */
export function driverSaysRetriable(err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
  return (
    err instanceof MongoError && (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('ResetPool'))
  );
}

/** A MongoDB operation of the apply target failed. Retriable as the target's classifier decides. */
export class MongoApplyTargetError extends TidemarkError {
  override readonly name: string = 'MongoApplyTargetError';
  /** What was being done (`update`, `createIndexes`, ...). */
  readonly operation: string;
  readonly ns: string;
  /** The server's error code, when the server answered. */
  readonly code: number | undefined;

  constructor(details: {
    operation: string;
    ns: string;
    retriable: boolean;
    cause: unknown;
    reason?: string;
  }) {
    const cause = details.cause;
    const code = serverCode(cause);
    const text = details.reason ?? (cause instanceof Error ? cause.message : String(cause));
    super(
      `${details.operation} on ${details.ns} failed${code === undefined ? '' : ` (code ${code})`}: ${text}`,
      {
        retriable: details.retriable,
        cause,
      },
    );
    this.operation = details.operation;
    this.ns = details.ns;
    this.code = code;
  }
}

/** The server's numeric error code of a driver error, if any. */
export function serverCode(err: unknown): number | undefined {
  if (err instanceof MongoServerError && typeof err.code === 'number') return err.code;
  if (err instanceof MongoError && typeof err.code === 'number') return err.code;
  return undefined;
}
