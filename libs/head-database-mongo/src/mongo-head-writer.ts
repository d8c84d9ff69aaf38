import { BSON, EJSON, type Document } from 'bson';
import { MongoBulkWriteError, MongoServerError, type MongoClient } from 'mongodb';
import { headDatabasePrefix, splitNamespace, type HeadWriter } from '@tidemark/domain';
import { fromRawBson } from './raw-bson';

const NAMESPACE_EXISTS = 48;
const DUPLICATE_KEY = 11000;
/** MongoDB's largest document. */
const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
/**
 * The driver's bulk writer checks each document's size with bson's `calculateObjectSize`, which (bson 6.10) sizes an
 * `Int32` wrapper 12 bytes too large, so a valid document near 16 MiB holding many Int32 values is refused before
 * any server sees it. An Int32 element takes at least 7 bytes, so the estimate is at most about 2.7 times the real
 * size: only documents above this size are checked, and those the driver would refuse are written one by one.
 */
const MISSIZED_ABOVE = 6 * 1024 * 1024;

/** Collection options a head collection keeps from its source (others, such as `uuid`, are the server's own). */
const KEPT_OPTIONS = [
  'capped',
  'size',
  'max',
  'validator',
  'validationLevel',
  'validationAction',
  'collation',
  'timeseries',
  'expireAfterSeconds',
  'clusteredIndex',
  'changeStreamPreAndPostImages',
];
/** Index spec fields that describe the index rather than the server's bookkeeping. */
const DROPPED_INDEX_FIELDS = ['v', 'ns', 'background'];

/** Documents per insert command of a scanned slice. */
const INSERT_BATCH_DOCS = 2_000;
/** Insert commands of one slice in flight at once (not for capped collections). */
export const DEFAULT_HEAD_INSERT_CONCURRENCY = 2;

export class MongoHeadWriter implements HeadWriter {
  private readonly capped = new Map<string, boolean>();

  constructor(
    private readonly client: MongoClient,
    private readonly insertConcurrency = DEFAULT_HEAD_INSERT_CONCURRENCY,
  ) {}

  private coll(headNs: string) {
    const { db, coll } = splitNamespace(headNs);
    return this.client.db(db).collection(coll);
  }

  async createCollection(headNs: string, optionsEjson?: string): Promise<void> {
    const { db, coll } = splitNamespace(headNs);
    const source = optionsEjson ? (EJSON.parse(optionsEjson, { relaxed: false }) as Document) : {};
    const options = Object.fromEntries(Object.entries(source).filter(([k]) => KEPT_OPTIONS.includes(k)));
    this.capped.delete(headNs); // (re)created: read again on the next insert
    try {
      await this.client.db(db).createCollection(coll, options);
    } catch (err) {
      if (err instanceof MongoServerError && err.code === NAMESPACE_EXISTS) return;
      throw err;
    }
  }

  /**
   * Inserts a scanned slice's documents in commands of {@link INSERT_BATCH_DOCS}, up to `insertConcurrency` of them
   * in flight (one for a capped collection, whose natural order is the insert order), decoding the next batch while
   * the server writes the last: the server's work on one command is single-threaded, so one command at a time left
   * a core idle while the head-builder's backlog drained. Unordered inserts: a redelivered slice's duplicates are
   * ignored batch by batch. The first failure is thrown once every command in flight has finished.
   */
  async insertScanned(headNs: string, docs: Buffer[]): Promise<void> {
    if (docs.length === 0) return;
    const parallel = (await this.isCapped(headNs)) ? 1 : this.insertConcurrency;
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; i < docs.length && failure === undefined; i += INSERT_BATCH_DOCS) {
        const values = await this.scannedValues(headNs, docs.slice(i, i + INSERT_BATCH_DOCS));
        if (values.length === 0) continue;
        const write: Promise<void> = this.insertBatch(headNs, values)
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => inFlight.delete(write));
        inFlight.add(write);
        if (inFlight.size >= parallel) await Promise.race(inFlight);
      }
    } finally {
      await Promise.all(inFlight);
    }
    if (failure !== undefined) throw failure.error;
  }

  /** Decodes scanned documents; one the driver's bulk writer would wrongly refuse is written on its own here. */
  private async scannedValues(headNs: string, docs: Buffer[]): Promise<Document[]> {
    const values: Document[] = [];
    for (const raw of docs) {
      const value = fromRawBson(raw, headNs);
      if (raw.length > MISSIZED_ABOVE && BSON.calculateObjectSize(value) > MAX_BSON_OBJECT_SIZE) {
        // The driver's bulk writer would refuse it before sending (see MISSIZED_ABOVE); an upsert by _id is
        // idempotent like the insert, and the server checks the real size.
        await this.coll(headNs).replaceOne({ _id: value['_id'] }, value, { upsert: true });
      } else {
        values.push(value);
      }
    }
    return values;
  }

  private async insertBatch(headNs: string, values: Document[]): Promise<void> {
    try {
      await this.coll(headNs).insertMany(values, { ordered: false, forceServerObjectId: false });
    } catch (err) {
      // A redelivered slice: the documents are already there, from this very slice.
      if (err instanceof MongoBulkWriteError) {
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        if (errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY)) return;
      }
      throw err;
    }
  }

  /**
   * Whether a head collection is capped, remembered once it exists until `createCollection` names it again (a
   * restore's `--drop` drops and re-creates a namespace through it).
   */
  private async isCapped(headNs: string): Promise<boolean> {
    const known = this.capped.get(headNs);
    if (known !== undefined) return known;
    const { db, coll } = splitNamespace(headNs);
    const [info] = await this.client.db(db).listCollections({ name: coll }).toArray();
    if (info === undefined) return false; // not created yet: the insert creates it (asked again next time)
    const capped = (info as { options?: { capped?: unknown } }).options?.capped === true;
    this.capped.set(headNs, capped);
    return capped;
  }

  async upsertFetched(headNs: string, docs: Buffer[]): Promise<void> {
    if (docs.length === 0) return;
    const ops = docs.map((d) => {
      const doc = fromRawBson(d, headNs);
      return { replaceOne: { filter: { _id: doc['_id'] }, replacement: doc, upsert: true } };
    });
    await this.coll(headNs).bulkWrite(ops, { ordered: true });
  }

  async createIndexes(headNs: string, indexesEjson?: string): Promise<void> {
    if (!indexesEjson) return;
    const specs = (EJSON.parse(indexesEjson, { relaxed: false }) as Document[])
      .filter((s) => s['name'] !== '_id_')
      .map((s) => Object.fromEntries(Object.entries(s).filter(([k]) => !DROPPED_INDEX_FIELDS.includes(k))));
    if (specs.length === 0) return;
    const { db, coll } = splitNamespace(headNs);
    // One index per command: FerretDB 1.24 closes the connection on a createIndexes naming several indexes
    // that all exist already (a redelivered build); MongoDB takes either form.
    for (const spec of specs) await this.client.db(db).command({ createIndexes: coll, indexes: [spec] });
  }

  async dropHead(jobId: string, syncNo: number): Promise<void> {
    const prefix = headDatabasePrefix(jobId, syncNo);
    const { databases } = await this.client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) if (d.name.startsWith(prefix)) await this.client.db(d.name).dropDatabase();
  }
}
