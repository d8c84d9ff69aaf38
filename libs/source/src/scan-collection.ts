/**
 * Streams a collection's documents as the source's raw BSON bytes (natural order), one batch of `batchSize` in
 * memory at a time; never `toArray`.
 */
import type { MongoClient } from 'mongodb';
import { splitNamespace } from '@tidemark/domain';
import { abortReason } from '@tidemark/util';
import { toSourceError, type SourceErrorClassifier } from './source-error';

export interface ScanOptions {
  /** Documents per server batch. Default 1000. */
  readonly batchSize?: number;
  /** Aborting closes the cursor; the iteration then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /** Classifies driver failures (default: all fatal; the agent passes `classifyMongoError`). */
  readonly classifyError?: SourceErrorClassifier;
}

export const DEFAULT_SCAN_BATCH_SIZE = 1000;

/**
 * Every document of `ns` as a Buffer holding its exact BSON bytes. Each Buffer is a copy owned by the caller (the
 * driver's raw documents are views into the whole reply, which would otherwise stay in memory with them).
 * Driver failures come out as `SourceReadError` (retriable or not, per `classifyMongoError`).
 */
export async function* scanCollection(
  client: MongoClient,
  ns: string,
  options: ScanOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const { db, coll } = splitNamespace(ns);
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const cursor = client
    .db(db)
    .collection(coll)
    .find({}, { raw: true, batchSize: options.batchSize ?? DEFAULT_SCAN_BATCH_SIZE });
  const onAbort = (): void => void cursor.close().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let doc: unknown;
      try {
        doc = await cursor.next();
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        throw toSourceError(err, `scan ${ns}`, options.classifyError);
      }
      if (signal?.aborted) throw abortReason(signal);
      if (doc === null) return;
      yield Buffer.from(doc as Uint8Array);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await cursor.close().catch(() => undefined);
  }
}
