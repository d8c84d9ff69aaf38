/**
 * Test data for end-to-end runs: a source with several databases and collections of mixed BSON types, and a
 * writer that inserts, updates and deletes while a backup runs. Values stay within what FerretDB stores (it refuses
 * nested arrays, among others; the BSON fidelity specs cover those without a server).
 */
import { randomBytes } from 'node:crypto';
import { Binary, Double, Int32, Long, ObjectId, type Document, type Filter, type MongoClient } from 'mongodb';

const byId = (id: unknown) => ({ _id: id }) as Filter<Document>;

export interface SeedSpec {
  /** `db.coll` -> number of documents. */
  collections: Record<string, number>;
  /** Indexes to create per namespace (besides `_id_`). */
  indexes?: Record<string, Array<{ key: Document; name: string; unique?: boolean }>>;
}

let serial = 0;

export function mixedDocument(n: number): Document {
  serial += 1;
  return {
    _id: n % 3 === 0 ? new ObjectId() : `k-${n}-${serial}`,
    n: new Int32(n),
    big: Long.fromBigInt(BigInt(n) * 4_000_000_007n),
    price: new Double(n / 7),
    at: new Date(1_700_000_000_000 + n * 1000),
    tags: ['alpha', `t${n % 17}`, n % 5],
    nested: { level: { deeper: { value: n, label: `v${n}` } }, list: [{ a: n }, { b: String(n) }] },
    bin: new Binary(randomBytes(16), 0),
    oid: new ObjectId(),
    text: 'lorem ipsum '.repeat(1 + (n % 40)),
    flag: n % 2 === 0,
    none: null,
  };
}

/** Inserts the documents in batches of 1000; returns the number inserted. */
export async function seedSource(client: MongoClient, spec: SeedSpec): Promise<number> {
  let total = 0;
  for (const [ns, count] of Object.entries(spec.collections)) {
    const [db, ...rest] = ns.split('.');
    const coll = client.db(db!).collection(rest.join('.'));
    await client
      .db(db!)
      .createCollection(rest.join('.'))
      .catch(() => undefined);
    for (let i = 0; i < count; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) => mixedDocument(i + k));
      await coll.insertMany(batch, { ordered: false });
      total += batch.length;
    }
    for (const idx of spec.indexes?.[ns] ?? []) {
      await coll.createIndex(idx.key, { name: idx.name, ...(idx.unique ? { unique: true } : {}) });
    }
  }
  return total;
}

export interface WriterStats {
  inserts: number;
  updates: number;
  deletes: number;
}

/**
 * Writes until `signal` aborts: inserts, `$set`/`$unset`/`$inc` updates, replacements and deletes across the
 * given namespaces, `opsPerSecond` at most. Resolves with what it did.
 */
export async function runWriter(
  client: MongoClient,
  namespaces: string[],
  signal: AbortSignal,
  opsPerSecond = 200,
): Promise<WriterStats> {
  const stats: WriterStats = { inserts: 0, updates: 0, deletes: 0 };
  // Targets come from a bounded pool of known ids per namespace (FerretDB has no $sample).
  const pools = new Map<string, unknown[]>();
  for (const ns of namespaces) {
    const [db, ...rest] = ns.split('.');
    const ids = await client
      .db(db!)
      .collection(rest.join('.'))
      .find({}, { projection: { _id: 1 }, limit: 2000 })
      .toArray();
    pools.set(
      ns,
      ids.map((d) => d['_id']),
    );
  }
  let n = 10_000_000;
  const pause = 1000 / opsPerSecond;
  while (!signal.aborted) {
    const ns = namespaces[n % namespaces.length]!;
    const [db, ...rest] = ns.split('.');
    const coll = client.db(db!).collection(rest.join('.'));
    const pool = pools.get(ns)!;
    const at = Math.floor(Math.random() * pool.length);
    const target = pool[at];
    const op = n % 7;
    if (op <= 1 || target === undefined) {
      const doc = mixedDocument(n);
      await coll.insertOne(doc);
      if (pool.length < 5000) pool.push(doc['_id']);
      stats.inserts += 1;
    } else if (op === 2) {
      await coll.updateOne(byId(target), {
        $set: { 'nested.level.deeper.value': -n, touched: true },
        $inc: { n: 1 },
      });
      stats.updates += 1;
    } else if (op === 3) {
      await coll.updateOne(byId(target), { $unset: { text: '', 'nested.list': '' } });
      stats.updates += 1;
    } else if (op === 4) {
      await coll.replaceOne(byId(target), { replaced: true, n: new Int32(n) });
      stats.updates += 1;
    } else {
      await coll.deleteOne(byId(target));
      pool.splice(at, 1);
      stats.deletes += 1;
    }
    n += 1;
    await new Promise((r) => setTimeout(r, pause));
  }
  return stats;
}
