/**
 * Runs a catalog's driver call and turns a failure into a `TidemarkError` naming the catalog and the operation,
 * retriable as the workspace's classifier says; a `TidemarkError` (a version or state check) passes as it is.
 */
import { TidemarkError } from '@tidemark/domain';
import type { StoreErrorClassifier } from '@tidemark/jobs';

export async function guardCatalogCall<T>(
  catalog: string,
  classify: StoreErrorClassifier,
  what: string,
  op: () => Promise<T>,
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof TidemarkError) throw err;
    const verdict = classify(err);
    throw new TidemarkError(`${catalog}: ${what} failed: ${verdict.reason}`, {
      retriable: verdict.retriable,
      cause: err,
    });
  }
}
