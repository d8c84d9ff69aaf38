/** Reads documents by `_id` (the *fetching missing documents* phase), as raw BSON. */
import type { MongoClient } from 'mongodb';
import { splitNamespace } from '@tidemark/domain';
import { toSourceError, type SourceErrorClassifier } from './source-error';

/** Most ids one call accepts (a FETCH_MISSING_DOCUMENTS command carries at most 1000). */
export const MAX_FETCH_IDS = 1000;

/**
 * The documents of `ns` whose `_id` is in `ids`, as copies of their raw BSON bytes, streamed (a document may be
 * 16 MiB). Ids with no document (deleted since) simply yield nothing. Throws `RangeError` above {@link MAX_FETCH_IDS}.
 */
export async function* fetchDocumentsById(
  client: MongoClient,
  ns: string,
  ids: readonly unknown[],
  classify?: SourceErrorClassifier,
): AsyncGenerator<Buffer, void, undefined> {
  if (ids.length > MAX_FETCH_IDS)
    throw new RangeError(`fetch ${ns}: ${ids.length} ids, at most ${MAX_FETCH_IDS}`);
  if (ids.length === 0) return;
  const { db, coll } = splitNamespace(ns);
  const cursor = client
    .db(db)
    .collection(coll)
    .find({ _id: { $in: [...ids] } } as never, { raw: true, batchSize: 100 });
  try {
    for (;;) {
      let doc: unknown;
      try {
        doc = await cursor.next();
      } catch (err) {
        throw toSourceError(err, `fetch documents of ${ns} by _id`, classify);
      }
      if (doc === null) return;
      yield Buffer.from(doc as Uint8Array);
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
