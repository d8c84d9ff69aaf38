/**
 * Equality of a head database and its source, as the end-to-end tests check it: per collection an
 * order-independent hash over the documents' canonical (raw) BSON bytes, the document count, and every index with
 * every option the server lists (unique, sparse, partialFilterExpression, expireAfterSeconds, collation, hidden,
 * wildcardProjection, weights, ...), but for the fields {@link INDEX_FIELDS_NOT_COMPARED} names. A listing that
 * fails (a missing collection included) throws: it never compares equal.
 */
import { createHash } from 'node:crypto';
import { EJSON } from 'bson';
import type { Document, MongoClient } from 'mongodb';

/**
 * Index fields left out of the comparison, each with why it says nothing about the index a user defined. Kept
 * here, not imported from the head writer (which drops the same fields when it creates indexes), so the check
 * does not trust the code it checks.
 */
export const INDEX_FIELDS_NOT_COMPARED: Readonly<Record<string, string>> = Object.freeze({
  v: 'the index format version, chosen by the server that builds the index',
  ns: "servers before 4.4 list the collection's own namespace, which differs between a source and its head by design",
  background: 'a build-time hint, ignored since MongoDB 4.2, that changes nothing about the index',
});

/** One index as compared. */
export interface IndexDigest {
  readonly name: string;
  /**
   * Every listed field but {@link INDEX_FIELDS_NOT_COMPARED}, top-level fields sorted by name, values in their
   * order (a compound key's order matters) as relaxed Extended JSON: numbers compare by value, since the server
   * treats `{ a: 1 }` and `{ a: 1.0 }` as the same key pattern and drivers write either.
   */
  readonly signature: string;
}

export interface CollectionDigest {
  count: number;
  /** SHA-256 over the sorted SHA-256s of each document's raw BSON. */
  digest: string;
  /** Sorted by name. */
  indexes: IndexDigest[];
}

/** The comparable form of one index as `listIndexes` returns it. */
export function indexDigest(spec: Document): IndexDigest {
  const fields = Object.keys(spec)
    .filter((field) => !Object.prototype.hasOwnProperty.call(INDEX_FIELDS_NOT_COMPARED, field))
    .sort();
  const compared = Object.fromEntries(fields.map((field) => [field, spec[field] as unknown]));
  return { name: String(spec['name']), signature: EJSON.stringify(compared, { relaxed: true }) };
}

/** Differences between the indexes of a source collection and of its head collection; empty when equal. */
export function indexDifferences(source: readonly IndexDigest[], head: readonly IndexDigest[]): string[] {
  const problems: string[] = [];
  const inHead = new Map(head.map((index) => [index.name, index]));
  for (const index of source) {
    const other = inHead.get(index.name);
    if (other === undefined)
      problems.push(`index ${index.name} is missing in the head (source ${index.signature})`);
    else if (other.signature !== index.signature) {
      problems.push(`index ${index.name} differs: source ${index.signature} / head ${other.signature}`);
    }
    inHead.delete(index.name);
  }
  for (const extra of inHead.values()) {
    problems.push(`index ${extra.name} is in the head only (${extra.signature})`);
  }
  return problems;
}

export async function collectionDigest(client: MongoClient, ns: string): Promise<CollectionDigest> {
  const dot = ns.indexOf('.');
  const coll = client.db(ns.slice(0, dot)).collection(ns.slice(dot + 1));
  const hashes: string[] = [];
  for await (const raw of coll.find({}, { raw: true, batchSize: 1000 })) {
    hashes.push(
      createHash('sha256')
        .update(raw as unknown as Uint8Array)
        .digest('hex'),
    );
  }
  hashes.sort();
  const all = createHash('sha256');
  for (const h of hashes) all.update(h);
  let listed: Document[];
  try {
    listed = await coll.listIndexes().toArray();
  } catch (err) {
    throw new Error(`listIndexes of ${ns} failed: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const indexes = listed.map(indexDigest).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { count: hashes.length, digest: all.digest('hex'), indexes };
}

/**
 * Differences between each source namespace and its head namespace; empty when they are equal. Rejects when a
 * namespace cannot be read (a failed listing is not an equal one).
 */
export async function compareHeads(
  source: MongoClient,
  backup: MongoClient,
  mapping: Record<string, string>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [src, head] of Object.entries(mapping)) {
    const [a, b] = await Promise.all([collectionDigest(source, src), collectionDigest(backup, head)]);
    if (a.count !== b.count)
      problems.push(`${src}: ${a.count} documents at the source, ${b.count} in the head ${head}`);
    else if (a.digest !== b.digest)
      problems.push(`${src}: same count (${a.count}) but different documents in ${head}`);
    for (const problem of indexDifferences(a.indexes, b.indexes))
      problems.push(`${src}: ${problem} (${head})`);
  }
  return problems;
}
