/**
 * Driver errors of the MongoDB-backed stores, classified by an injected classifier and wrapped. The apps pass the
 * workspace's table (`classifyMongoError` of `@tidemark/mongo`; an adapter does not import another adapter, so the
 * table is given, not imported); without one, only what the driver itself calls transient is retriable.
 */
import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { TidemarkError } from '@tidemark/domain';
import { isProgrammingError } from '@tidemark/util';
import { SnapshotStoreUnavailableError, type StoreErrorClassifier } from './store-errors';

export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === DUPLICATE_KEY;
}

/** The classifier used when none is given: network errors, no reachable server, the driver's retry labels. */
export const driverMongoClassifier: StoreErrorClassifier = (err) => {
  const retriable =
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    (err instanceof MongoError &&
      (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('ResetPool')));
  const shown = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { retriable, reason: retriable ? `transient driver error (${shown})` : `driver error (${shown})` };
};

/**
 * Runs `fn`; a driver error becomes `SnapshotStoreUnavailableError` with `classify`'s verdict. Tidemark's own
 * errors and programming errors pass unchanged.
 */
export async function mongoGuard<T>(
  classify: StoreErrorClassifier,
  operation: string,
  location: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TidemarkError || isProgrammingError(err)) throw err;
    const verdict = classify(err);
    throw new SnapshotStoreUnavailableError(operation, location, verdict.reason, {
      retriable: verdict.retriable,
      cause: err,
    });
  }
}
