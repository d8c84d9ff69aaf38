/**
 * Runs a catalog's driver call and turns a failure into a `TidemarkError` naming the catalog and the operation,
 * retriable as the workspace's classifier says. A `TidemarkError` (a version or state check) and a programming error
 * (`TypeError`, `RangeError`, …: a bug, never a store failure to retry) pass as they are, as in the snapshot stores'
 * `mongoGuard`.
 */
import { TidemarkError } from '@tidemark/domain';
import type { StoreErrorClassifier } from '@tidemark/jobs';
import { isProgrammingError } from '@tidemark/util';

export async function guardCatalogCall<T>(
  catalog: string,
  classify: StoreErrorClassifier,
  what: string,
  op: () => Promise<T>,
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof TidemarkError || isProgrammingError(err)) throw err;
    const verdict = classify(err);
    throw new TidemarkError(`${catalog}: ${what} failed: ${verdict.reason}`, {
      retriable: verdict.retriable,
      cause: err,
    });
  }
}
