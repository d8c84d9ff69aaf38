/**
 * The catalog slice's documents (docs/format.md, "Catalog slice"). A catalog slice closes a transfer: the agent
 * publishes it once every initial-sync slice it lists has been acknowledged by Kafka, so a reader that has stored
 * all the listed slices has the whole transfer.
 *
 *   { type: 'sync', v: 1, origin: 'scan'|'missing', startTs: Timestamp, endTs: Timestamp, serverVersion?, fcv? }
 *   { type: 'namespace', ns: 'db.coll', sliceCount, docCount, options?: {...}, indexes?: [{ key, name, ... }] }
 *   ...one per namespace
 *
 * Both the writer (agent) and the readers (head-builder, job-state) use this module; nothing else builds or parses
 * catalog documents.
 *
 * The `sync` document carries the catalog's format version `v` (`CATALOG_FORMAT`, docs/format.md "Stored
 * records"); `decodeCatalog` checks it right after the document's type and before any other field, and throws
 * `UnknownFormatVersionError` for a version it does not read. A catalog without `v` (written before versions) is
 * version 1.
 */
import { BSON, Timestamp, type Document } from 'bson';
import {
  checkRecordVersion,
  recordFormat,
  SliceValidationError,
  type OpTime,
  type SliceOrigin,
} from '@tidemark/domain';

/** Format of a catalog slice's documents, carried by its `sync` document. */
export const CATALOG_FORMAT = recordFormat('catalog slice', 1);

export interface CatalogNamespace {
  ns: string;
  sliceCount: number;
  docCount: number;
  /** Collection options as `listCollections` reports them (capped, validator, collation, ...). */
  options?: Document;
  /** Index specifications as `listIndexes` reports them, `_id_` included. */
  indexes?: Document[];
}

export interface Catalog {
  origin: SliceOrigin;
  /** Oplog position the transfer started at (the head's initial applied position). */
  startTs: OpTime;
  /** Oplog position when the transfer ended: applying up to here makes the head consistent. */
  endTs: OpTime;
  serverVersion?: string;
  featureCompatibilityVersion?: string;
  namespaces: CatalogNamespace[];
}

const ts = (p: OpTime) => new Timestamp({ t: p.t, i: p.i });

export function encodeCatalog(c: Catalog): Buffer[] {
  const head: Document = {
    type: 'sync',
    v: CATALOG_FORMAT.current,
    origin: c.origin,
    startTs: ts(c.startTs),
    endTs: ts(c.endTs),
  };
  if (c.serverVersion !== undefined) head['serverVersion'] = c.serverVersion;
  if (c.featureCompatibilityVersion !== undefined) head['fcv'] = c.featureCompatibilityVersion;
  return [
    Buffer.from(BSON.serialize(head)),
    ...c.namespaces.map((n) => {
      const d: Document = { type: 'namespace', ns: n.ns, sliceCount: n.sliceCount, docCount: n.docCount };
      if (n.options !== undefined) d['options'] = n.options;
      if (n.indexes !== undefined) d['indexes'] = n.indexes;
      return Buffer.from(BSON.serialize(d));
    }),
  ];
}

export function decodeCatalog(docs: Buffer[], sliceId?: string): Catalog {
  const fail = (reason: string): never => {
    throw new SliceValidationError({ sliceId, reason: `catalog: ${reason}` });
  };
  const [first, ...rest] = docs.map((d) => BSON.deserialize(d, { promoteLongs: true, promoteValues: true }));
  if (!first || first['type'] !== 'sync') return fail('the first document must be of type "sync"');
  checkRecordVersion(CATALOG_FORMAT, first, sliceId === undefined ? undefined : `slice ${sliceId}`);
  const origin = first['origin'];
  if (origin !== 'scan' && origin !== 'missing') return fail(`unknown origin ${String(origin)}`);
  const opTime = (v: unknown, what: string): OpTime =>
    v instanceof Timestamp ? { t: v.t, i: v.i } : fail(`${what} must be a BSON Timestamp`);
  const seen = new Set<string>();
  const namespaces = rest.map((d, k): CatalogNamespace => {
    const ns = d['ns'];
    if (d['type'] !== 'namespace' || typeof ns !== 'string' || !/^[^.]+\..+$/.test(ns)) {
      return fail(`document ${k + 1} is not a namespace entry`);
    }
    if (seen.has(ns)) fail(`namespace ${ns} is listed twice`);
    seen.add(ns);
    const count = (v: unknown, what: string) =>
      typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${ns}: ${what} must be a count`);
    const n: CatalogNamespace = {
      ns,
      sliceCount: count(d['sliceCount'], 'sliceCount'),
      docCount: count(d['docCount'], 'docCount'),
    };
    if (d['options'] !== undefined) n.options = d['options'] as Document;
    if (d['indexes'] !== undefined) {
      if (!Array.isArray(d['indexes'])) fail(`${ns}: indexes must be an array`);
      n.indexes = d['indexes'] as Document[];
    }
    return n;
  });
  const c: Catalog = {
    origin,
    startTs: opTime(first['startTs'], 'startTs'),
    endTs: opTime(first['endTs'], 'endTs'),
    namespaces,
  };
  if (typeof first['serverVersion'] === 'string') c.serverVersion = first['serverVersion'];
  if (typeof first['fcv'] === 'string') c.featureCompatibilityVersion = first['fcv'];
  return c;
}
