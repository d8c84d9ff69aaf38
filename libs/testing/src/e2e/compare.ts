/**
 * Equality of a head database and its source, as the end-to-end tests check it: per collection an
 * order-independent hash over the documents' canonical (raw) BSON bytes, the document count, and the index set.
 */
import { createHash } from 'node:crypto';
import type { Document, MongoClient } from 'mongodb';

export interface CollectionDigest {
  count: number;
  /** SHA-256 over the sorted SHA-256s of each document's raw BSON. */
  digest: string;
  indexes: string[];
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
  const indexes = (
    await coll
      .listIndexes()
      .toArray()
      .catch(() => [] as Document[])
  )
    .map((i) => JSON.stringify({ name: i['name'], key: i['key'], unique: i['unique'] === true }))
    .sort();
  return { count: hashes.length, digest: all.digest('hex'), indexes };
}

/** Differences between each source namespace and its head namespace; empty when they are equal. */
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
    if (JSON.stringify(a.indexes) !== JSON.stringify(b.indexes)) {
      problems.push(`${src}: indexes differ: source ${a.indexes.join(' ')} / head ${b.indexes.join(' ')}`);
    }
  }
  return problems;
}
