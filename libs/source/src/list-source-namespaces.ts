/**
 * The collections a job backs up, with what the head database needs to recreate them: collection options
 * (`listCollections`), index specifications (`listIndexes`) and size estimates for progress reporting.
 */
import { MongoServerError, type Document, type MongoClient } from 'mongodb';
import type { SourceNamespaceInfo } from '@tidemark/capture';
import {
  namespaceSelected,
  UnsupportedNamespaceError,
  type NamespaceFilters,
  type UnsupportedCollectionType,
  type UnsupportedNamespace,
} from '@tidemark/domain';
import { toSourceError, type SourceErrorClassifier } from './source-error';

/**
 * One selected collection of the source (`SourceNamespaceInfo` of the agent's `SourceReader` port): options `{}` for
 * a plain collection; estimated documents from collStats `count`, else `estimatedDocumentCount`; estimated bytes
 * from collStats `size`.
 */
export type SourceNamespace = SourceNamespaceInfo;

/**
 * Collection types Tidemark does not back up: `view` (its definition lives in `system.views`) and `timeseries` (a
 * view over `system.buckets.*`). A job that selects one is refused (`UnsupportedNamespaceError`), never backed up
 * without it.
 */
const UNSUPPORTED_TYPES: ReadonlySet<string> = new Set<UnsupportedCollectionType>(['view', 'timeseries']);

/** One database's `listCollections` answer split into what a job backs up and what it selects but Tidemark refuses. */
export function selectSourceCollections(
  db: string,
  collections: readonly Document[],
  filters: NamespaceFilters,
): { readonly collections: Document[]; readonly unsupported: UnsupportedNamespace[] } {
  const selected: Document[] = [];
  const unsupported: UnsupportedNamespace[] = [];
  for (const info of collections) {
    const ns = `${db}.${String(info['name'])}`;
    if (!namespaceSelected(ns, filters)) continue;
    const type = String(info['type'] ?? 'collection');
    if (UNSUPPORTED_TYPES.has(type)) unsupported.push({ ns, type: type as UnsupportedCollectionType });
    else selected.push(info);
  }
  return { collections: selected, unsupported };
}

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
 * collections are never selected (`namespaceSelected`). Throws `UnsupportedNamespaceError` naming every selected
 * view and time-series collection, if any: the job must exclude them.
 */
export async function listSourceNamespaces(
  client: MongoClient,
  filters: NamespaceFilters,
  classify?: SourceErrorClassifier,
): Promise<SourceNamespace[]> {
  try {
    const dbs = await client.db('admin').admin().listDatabases({ nameOnly: true });
    const out: SourceNamespace[] = [];
    const refused: UnsupportedNamespace[] = [];
    for (const { name: db } of dbs.databases) {
      if (!namespaceSelected(db, filters)) continue;
      const listed = await client.db(db).listCollections({}, { nameOnly: false }).toArray();
      const { collections, unsupported } = selectSourceCollections(db, listed, filters);
      refused.push(...unsupported);
      if (refused.length > 0) continue; // the job is refused: no need to read more than the names
      for (const info of collections) {
        const name = String(info['name']);
        const ns = `${db}.${name}`;
        const indexes = await client.db(db).collection(name).listIndexes().toArray();
        const sizes = await estimate(client, db, name);
        out.push({
          ns,
          options: (info['options'] as Document | undefined) ?? {},
          indexes,
          estimatedDocs: sizes.docs,
          estimatedBytes: sizes.bytes,
        });
      }
    }
    if (refused.length > 0) throw new UnsupportedNamespaceError({ namespaces: refused });
    return out.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  } catch (err) {
    throw toSourceError(err, 'list source namespaces', classify);
  }
}
