/** The newest and oldest positions the source oplog (`local.oplog.rs`) holds. */
import type { MongoClient, Timestamp } from 'mongodb';
import type { OpTime } from '@tidemark/domain';
import { opTimeFromTimestamp } from './op-time-bson';
import { toSourceError, type SourceErrorClassifier } from './source-error';

export const OPLOG_DB = 'local';
export const OPLOG_COLLECTION = 'oplog.rs';

async function edge(
  client: MongoClient,
  direction: 1 | -1,
  what: string,
  classify?: SourceErrorClassifier,
): Promise<OpTime | undefined> {
  try {
    const entry = await client
      .db(OPLOG_DB)
      .collection<{ ts: Timestamp }>(OPLOG_COLLECTION)
      // The oldest entry is read without a sort: natural order is the default, and FerretDB pushes a limit down
      // only when there is no sort (with one, it sorts the whole oplog in memory first).
      .find({}, { projection: { ts: 1 }, limit: 1, ...(direction === -1 ? { sort: { $natural: -1 } } : {}) })
      .next();
    return entry === null ? undefined : opTimeFromTimestamp(entry.ts);
  } catch (err) {
    throw toSourceError(err, what, classify);
  }
}

/** Timestamp of the newest oplog entry, or undefined for an empty oplog. */
export function latestOplogTs(
  client: MongoClient,
  classify?: SourceErrorClassifier,
): Promise<OpTime | undefined> {
  return edge(client, -1, 'read the newest oplog entry', classify);
}

/** Timestamp of the oldest oplog entry still held, or undefined for an empty oplog. */
export function oldestOplogTs(
  client: MongoClient,
  classify?: SourceErrorClassifier,
): Promise<OpTime | undefined> {
  return edge(client, 1, 'read the oldest oplog entry', classify);
}
