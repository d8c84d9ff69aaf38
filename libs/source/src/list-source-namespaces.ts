/**
 * The collections a job backs up, with what the head database needs to recreate them: collection options
 * (`listCollections`), index specifications (`listIndexes`) and size estimates for progress reporting.
 */
import { MongoServerError, type Document, type MongoClient } from 'mongodb';
import type { SourceNamespaceInfo } from '@tidemark/capture';
import { namespaceSelected, type NamespaceFilters } from '@tidemark/domain';
import { toSourceError, type SourceErrorClassifier } from './source-error';

/**
 * One selected collection of the source (`SourceNamespaceInfo` of the agent's `SourceReader` port): options `{}` for
 * a plain collection; estimated documents from collStats `count`, else `estimatedDocumentCount`; estimated bytes
 * from collStats `size`.
 */
export type SourceNamespace = SourceNamespaceInfo;

/**
 * Collection types that are not backed up as collections: `view` (its definition lives in `system.views`, which
 * is never backed up) and `timeseries` (a view over `system.buckets.*`).
 */
const SKIPPED_TYPES = new Set(['view', 'timeseries']);

function count(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(value);
  return undefined;
}

async function estimate(
  client: MongoClient,
  db: string,
  coll: string,
): Promise<{ docs?: number; bytes?: number }> {
  try {
    const stats = await client.db(db).command({ collStats: coll });
    const docs = count(stats['count']);
    const bytes = count(stats['size']);
    if (docs !== undefined) return { docs, bytes };
  } catch (err) {
    // Servers without (full) collStats support answer with a command error; fall through to the estimate.
    if (!(err instanceof MongoServerError)) throw err;
  }
  try {
    return { docs: await client.db(db).collection(coll).estimatedDocumentCount() };
  } catch (err) {
    if (!(err instanceof MongoServerError)) throw err;
    return {};
  }
}

/**
 * Every collection `filters` select, sorted by namespace. Databases `admin`, `local`, `config` and `system.*`
 * collections are never selected (`namespaceSelected`); views and time-series collections are skipped.
 */
export async function listSourceNamespaces(
  client: MongoClient,
  filters: NamespaceFilters,
  classify?: SourceErrorClassifier,
): Promise<SourceNamespace[]> {
  try {
    const dbs = await client.db('admin').admin().listDatabases({ nameOnly: true });
    const out: SourceNamespace[] = [];
    for (const { name: db } of dbs.databases) {
      if (!namespaceSelected(db, filters)) continue;
      const collections = await client.db(db).listCollections({}, { nameOnly: false }).toArray();
      for (const info of collections) {
        const ns = `${db}.${info.name}`;
        if (SKIPPED_TYPES.has(String(info.type ?? 'collection')) || !namespaceSelected(ns, filters)) continue;
        const indexes = await client.db(db).collection(info.name).listIndexes().toArray();
        const sizes = await estimate(client, db, info.name);
        out.push({
          ns,
          options: (info as { options?: Document }).options ?? {},
          indexes,
          estimatedDocs: sizes.docs,
          estimatedBytes: sizes.bytes,
        });
      }
    }
    return out.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  } catch (err) {
    throw toSourceError(err, 'list source namespaces', classify);
  }
}
