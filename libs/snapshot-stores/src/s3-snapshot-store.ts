/**
 * `S3SnapshotStore` (`s3`): a job's blocks as objects in a bucket, its records, lock and block index in the
 * backup-side MongoDB (docs/format.md, "Snapshot stores"):
 *
 * - object `<prefix>/<jobId>/blocks/<address[0..2]>/<address>`: one block's bytes (the key alone names job and
 *   address, so the index can be rebuilt from a bucket listing);
 * - object `<prefix>/<jobId>/packs/<id[0..2]>/<id>`: a **pack**, the blocks of one `putBlocks` (two or more, each at
 *   most {@link PACK_MAX_BLOCK_BYTES}) one after another, then a trailer listing them (so the index can still be
 *   rebuilt from the bucket); `id` is the SHA-256 of the whole object. One PUT for a group of small blocks instead of
 *   one each: with 16 KiB chunks, a 100 GB head would otherwise be millions of objects;
 * - `snapshot_block_objects`: `{ _id: "<jobId>:<address>", v, jobId, address, size, bucket, key, offset?,
 *   storedAt }` (`v` 2 with `offset`, else 1), the index: a block exists for `hasBlock`, `getBlock` and `listBlocks`
 *   when its entry does; `offset` is set when the block is bytes `[offset, offset + size)` of the pack `key`;
 * - `snapshots`, `snapshot_locks`: `mongo-snapshot-metadata.ts`, as in the `blockstore`.
 *
 * Write order: the object, then its index entry; delete order: the index entry, then the object (restic's
 * "Read and Write Ordering"); a pack's object goes with the last entry naming it. A crash in between leaves an
 * object no entry names, which a later `putBlock` adopts (a pack: a later pack of the same blocks), grooming removes
 * once it is older than the grace period (`sweepLeftovers`), or `deleteJob` removes; never an entry without a whole
 * object. A pack some of whose blocks were deleted keeps its bytes until its
 * last block goes (packs are not rewritten). An object is whole or absent: a single PUT up to
 * `multipartThresholdBytes`, else a multipart upload (parts of `partBytes`) that becomes visible only when completed,
 * and is aborted on failure. Both are conditional (`If-None-Match: *`, unless `conditionalWrites` is
 * false for a server without it): an object already under the key is kept, so the first bytes stay.
 *
 * Retries: every S3 request is retried with {@link S3_REQUEST_RETRY} backoff while the injected classifier
 * (`classifyS3Error` of `@tidemark/s3`) calls its failure retriable (throttling, 5xx, connection errors); a GET is
 * retried whole, body included. Give the store a client with `maxAttempts: 1`, so the SDK does not retry under it.
 * When the attempts or the time run out the store throws a retriable `SnapshotStoreUnavailableError`; a fatal
 * failure throws a non-retriable one at once.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import type { Collection, Filter, MongoClient } from 'mongodb';
import { TidemarkError, checkRecordVersion, documentLocation, versionFilters } from '@tidemark/domain';
import {
  BlockMissingError,
  type BlockRead,
  type BlockToStore,
  type LeftoversSwept,
  type SnapshotRecord,
  type SnapshotStore,
  type SweepLeftoversOptions,
  type StoreLockGrant,
} from '@tidemark/snapshots';
import {
  RetriesExhaustedError,
  S3_REQUEST_RETRY,
  isProgrammingError,
  retry,
  sha256Hex,
  type Backoff,
} from '@tidemark/util';
import {
  driverMongoClassifier,
  findByIds,
  insertAllowingDuplicates,
  isDuplicateKey,
  mongoGuard,
} from './mongo-guard';
import { DEFAULT_SNAPSHOTS_DATABASE, MongoSnapshotMetadata } from './mongo-snapshot-metadata';
import { BLOCK_OBJECT_FORMAT } from './record-codec';
import {
  SnapshotRecordInvalidError,
  SnapshotStoreUnavailableError,
  type StoreErrorClassifier,
} from './store-errors';
import { checkAddress, checkJobId, isAddress } from './store-keys';

export const SNAPSHOT_BLOCK_OBJECTS_COLLECTION = 'snapshot_block_objects';
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/** S3's smallest part (all but the last). */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

interface ObjectDoc {
  _id: string;
  v?: unknown;
  jobId: string;
  address: string;
  size: number;
  bucket: string;
  key: string;
  /** Set when the block is a range of the pack `key` (version 2). */
  offset?: number;
  storedAt: Date;
}

/** Where a block is: its object's key, and its range when the object is a pack. */
interface IndexEntry {
  readonly size: number;
  readonly key: string;
  readonly offset?: number;
}

/** A block of a pack that `getBlocks` reads: where its result goes, and its index entry. */
interface PackRead {
  readonly k: number;
  readonly address: string;
  readonly entry: IndexEntry & { readonly offset: number };
}

/** The end (exclusive) of a pack block's bytes in its pack. */
function endOf(block: PackRead): number {
  return block.entry.offset + block.entry.size;
}

/** An object holds other than the bytes the index says the block has there. */
function sizeDisagrees(where: string, held: number, size: number): SnapshotRecordInvalidError {
  return new SnapshotRecordInvalidError(
    where,
    `the object holds ${held} bytes there, the index says ${size}`,
  );
}

/** `getBlocks` reads two blocks of a pack with one GET when at most this many bytes lie between them... */
export const READ_GAP_BYTES = 256 * 1024;
/** ...and the GET stays within this many bytes. */
export const READ_SPAN_BYTES = 8 * 1024 * 1024;

/** Blocks up to this size go into packs; larger ones are objects of their own. */
export const PACK_MAX_BLOCK_BYTES = 1024 * 1024;
/** The last 4 bytes of a pack. */
const PACK_MAGIC = Buffer.from('TMPK', 'latin1');
/** Locations remembered for naming damage (`blockLocation`), the most recently read. */
const LOCATIONS_KEPT = 4096;

const OBJECT_READABLE = versionFilters(BLOCK_OBJECT_FORMAT).readable as Filter<ObjectDoc>;

export interface S3SnapshotStoreOptions {
  /** The S3 client; build it with `maxAttempts: 1` (the store retries). */
  readonly s3: S3Client;
  readonly bucket: string;
  /** Key prefix, without leading or trailing `/` (default `snapshots`). */
  readonly prefix?: string;
  /** Which S3 failures are retriable: `classifyS3Error` of `@tidemark/s3`. */
  readonly classifyS3Error: StoreErrorClassifier;
  /** The MongoDB client holding the index, records and locks. */
  readonly mongo: MongoClient;
  /** Its database (default `tidemark_snapshots`). */
  readonly database?: string;
  /** Which MongoDB failures are retriable: `classifyMongoError` of `@tidemark/mongo`. */
  readonly classifyMongoError?: StoreErrorClassifier;
  /** Backoff between attempts (default {@link S3_REQUEST_RETRY}). */
  readonly backoff?: Backoff;
  /** Attempts per request (default 8). */
  readonly maxAttempts?: number;
  /** Time budget per request, retries included, ms (default 120 000). */
  readonly maxElapsedMs?: number;
  /** Blocks larger than this go up as multipart uploads (default 16 MiB). */
  readonly multipartThresholdBytes?: number;
  /** Part size of a multipart upload (default 8 MiB, at least 5 MiB). */
  readonly partBytes?: number;
  /** Send `If-None-Match: *` on puts and completes (default true; turn off for a server without it). */
  readonly conditionalWrites?: boolean;
  /** The lock's clock. Default `Date.now`. */
  readonly clock?: () => number;
}

export class S3SnapshotStore implements SnapshotStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly database: string;
  private readonly s3: S3Client;
  private readonly objects: Collection<ObjectDoc>;
  private readonly meta: MongoSnapshotMetadata;
  /** Where blocks looked up lately are (`blockLocation`), by `<jobId>:<address>`, oldest first. */
  private readonly locations = new Map<string, string>();
  private readonly classifyS3: StoreErrorClassifier;
  private readonly classifyMongo: StoreErrorClassifier;
  private readonly backoff: Backoff;
  private readonly maxAttempts: number;
  private readonly maxElapsedMs: number;
  private readonly multipartThreshold: number;
  private readonly partBytes: number;
  private readonly conditional: boolean;

  constructor(options: S3SnapshotStoreOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'snapshots';
    if (!PREFIX.test(this.prefix)) {
      throw new RangeError(
        `s3 store prefix ${JSON.stringify(this.prefix)}: segments of [A-Za-z0-9._-] joined by /`,
      );
    }
    this.database = options.database ?? DEFAULT_SNAPSHOTS_DATABASE;
    this.classifyS3 = options.classifyS3Error;
    this.classifyMongo = options.classifyMongoError ?? driverMongoClassifier;
    this.backoff = options.backoff ?? S3_REQUEST_RETRY;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.maxElapsedMs = options.maxElapsedMs ?? 120_000;
    this.multipartThreshold = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
    this.partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
    if (!Number.isSafeInteger(this.partBytes) || this.partBytes < MIN_PART_BYTES) {
      throw new RangeError(`s3 store partBytes must be an integer >= ${MIN_PART_BYTES}`);
    }
    this.conditional = options.conditionalWrites ?? true;
    this.objects = options.mongo.db(this.database).collection<ObjectDoc>(SNAPSHOT_BLOCK_OBJECTS_COLLECTION);
    this.meta = new MongoSnapshotMetadata(options.mongo, this.database, options.clock, this.classifyMongo);
  }

  /** Creates the MongoDB indexes (idempotent); call once before use. The bucket must exist. */
  async init(): Promise<void> {
    await this.meta.init();
    await mongoGuard(this.classifyMongo, 'init', this.database, async () => {
      await this.objects.createIndex({ jobId: 1 });
      // deleteBlock asks whether another block is in the same pack.
      await this.objects.createIndex({ key: 1 });
    });
  }

  // ---- blocks ------------------------------------------------------------------------------------------------

  async putBlock(jobId: string, address: string, bytes: Uint8Array): Promise<void> {
    const key = this.key(jobId, address);
    if (await this.indexed(jobId, address)) return;
    const size = await this.putWhole(key, bytes);
    const _id = `${jobId}:${address}`;
    await mongoGuard(this.classifyMongo, 'putBlock', this.indexWhere(_id), async () => {
      try {
        await this.objects.insertOne(this.entry(jobId, address, size, key));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await this.indexed(jobId, address); // a concurrent put indexed it; throws for an unknown version
      }
    });
  }

  /**
   * The blocks of at most {@link PACK_MAX_BLOCK_BYTES} as one pack object when there are two or more, the others (the
   * ones not indexed yet) as objects of their own, all at once; then one unordered insert into the index. As with
   * `putBlock`, an object is indexed only after it is stored.
   */
  async putBlocks(jobId: string, blocks: readonly BlockToStore[]): Promise<void> {
    const todo = [...new Map(blocks.map((b) => [checkAddress(b.address), b])).values()];
    const small = todo.filter((b) => b.bytes.length <= PACK_MAX_BLOCK_BYTES);
    const packed = small.length >= 2 ? small : [];
    // A lone block's object is named by its address, so one already indexed is not put again (its object, perhaps
    // encoded otherwise, stays as its entry describes it). A pack is named by its content's hash: it is new, or the
    // same bytes again, so it goes up without a lookup (a snapshot has looked its group up, or knows the store holds
    // none of the job's blocks); one whose blocks all turn out indexed already is removed below.
    const lone = todo.filter((b) => !packed.includes(b));
    const present = await this.hasBlocks(
      jobId,
      lone.map((b) => b.address),
    );
    const alone = lone.filter((b) => !present.has(b.address));
    const [pack, ...single] = await Promise.all([
      packed.length > 0 ? this.putPack(jobId, packed) : Promise.resolve([]),
      ...alone.map(async (block): Promise<ObjectDoc[]> => {
        const key = this.key(jobId, block.address);
        return [this.entry(jobId, block.address, await this.putWhole(key, block.bytes), key)];
      }),
    ]);
    const docs = [...(pack ?? []), ...single.flat()];
    const where = this.indexWhere(`${jobId}:(${docs.length} blocks)`);
    const taken = await mongoGuard(this.classifyMongo, 'putBlocks', where, () =>
      insertAllowingDuplicates(this.objects, docs),
    );
    if (taken.length === 0) return;
    // Indexed before (or by a concurrent put): checked for their version, as putBlock does.
    await this.hasBlocks(
      jobId,
      taken.map((d) => d.address),
    );
    // A pack none of whose entries went in holds only blocks stored elsewhere: unless an entry names it (the same
    // pack put before), nothing ever would, so it is removed now rather than left in the bucket.
    const takenIds = new Set(taken.map((d) => d._id));
    const packKey = pack?.[0]?.key;
    if (packKey === undefined || !(pack ?? []).every((d) => takenIds.has(d._id))) return;
    await this.deletePackUnlessNamed('putBlocks', jobId, packKey, where);
  }

  /**
   * Puts `blocks` as one pack: their bytes one after another, then the trailer (UTF-8 JSON
   * `{"v":1,"jobId","blocks":[{"address","offset","size"}]}`, its length as uint32 little-endian, and `TMPK`). The key
   * is the SHA-256 of the whole, so putting the same blocks again finds the same object (kept, as any object).
   * Resolves their index entries.
   */
  private async putPack(jobId: string, blocks: readonly BlockToStore[]): Promise<ObjectDoc[]> {
    const listed: Array<{ address: string; offset: number; size: number }> = [];
    let offset = 0;
    for (const block of blocks) {
      listed.push({ address: block.address, offset, size: block.bytes.length });
      offset += block.bytes.length;
    }
    const trailer = Buffer.from(JSON.stringify({ v: 1, jobId, blocks: listed }), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(trailer.length, 0);
    const body = Buffer.concat([...blocks.map((b) => b.bytes), trailer, length, PACK_MAGIC]);
    const key = this.packKey(jobId, sha256Hex(body));
    const size = await this.putWhole(key, body);
    if (size !== body.length) {
      throw new SnapshotRecordInvalidError(
        `s3://${this.bucket}/${key}`,
        `a pack of ${body.length} bytes is stored there as ${size} bytes`,
      );
    }
    return listed.map((b) => this.entry(jobId, b.address, b.size, key, b.offset));
  }

  private entry(jobId: string, address: string, size: number, key: string, offset?: number): ObjectDoc {
    return {
      _id: `${jobId}:${address}`,
      // A block of its own keeps version 1, which builds before packs read too.
      v: offset === undefined ? 1 : BLOCK_OBJECT_FORMAT.current,
      jobId,
      address,
      size,
      bucket: this.bucket,
      key,
      ...(offset === undefined ? {} : { offset }),
      storedAt: new Date(),
    };
  }

  async hasBlocks(jobId: string, addresses: readonly string[]): Promise<Set<string>> {
    const byId = new Map(addresses.map((a) => [`${checkJobId(jobId)}:${checkAddress(a)}`, a]));
    const where = this.indexWhere(`${jobId}:(${byId.size} blocks)`);
    return mongoGuard(this.classifyMongo, 'index', where, async () => {
      const found = new Set<string>();
      if (byId.size === 0) return found;
      for (const doc of await findByIds(this.objects, [...byId.keys()], {
        v: 1,
        size: 1,
        key: 1,
        offset: 1,
      })) {
        const address = byId.get(doc._id);
        if (address === undefined) continue;
        this.checkEntry(jobId, address, doc, this.indexWhere(doc._id));
        found.add(address);
      }
      return found;
    });
  }

  async hasBlock(jobId: string, address: string): Promise<boolean> {
    return (await this.indexed(jobId, address)) !== undefined;
  }

  async getBlock(jobId: string, address: string): Promise<Uint8Array> {
    const entry = await this.indexed(jobId, address);
    if (entry === undefined) throw new BlockMissingError(jobId, address, this.blockLocation(jobId, address));
    return this.readEntry(jobId, address, entry);
  }

  /**
   * Looks the blocks up, then reads each pack's blocks that lie close together (gaps up to {@link READ_GAP_BYTES},
   * spans up to {@link READ_SPAN_BYTES}) with one ranged GET; blocks of their own with one GET each.
   */
  async getBlocks(jobId: string, addresses: readonly string[]): Promise<BlockRead[]> {
    const results: BlockRead[] = new Array<BlockRead>(addresses.length);
    const byPack = new Map<string, PackRead[]>();
    const reads: Promise<void>[] = [];
    const settle = (k: number, read: Promise<Uint8Array>) =>
      read.then(
        (bytes) => void (results[k] = { bytes }),
        (error: unknown) => void (results[k] = { error }),
      );
    await Promise.all(
      addresses.map(async (address, k) => {
        let entry: IndexEntry | undefined;
        try {
          entry = await this.indexed(jobId, address);
        } catch (error) {
          results[k] = { error };
          return;
        }
        if (entry === undefined) {
          results[k] = { error: new BlockMissingError(jobId, address, this.blockLocation(jobId, address)) };
        } else if (entry.offset === undefined || entry.size === 0) {
          reads.push(settle(k, this.readEntry(jobId, address, entry)));
        } else {
          const members = byPack.get(entry.key) ?? [];
          members.push({ k, address, entry: { ...entry, offset: entry.offset } });
          byPack.set(entry.key, members);
        }
      }),
    );
    for (const members of byPack.values()) {
      members.sort((a, b) => a.entry.offset - b.entry.offset);
      let span = { blocks: [members[0]!], start: members[0]!.entry.offset, end: endOf(members[0]!) };
      for (const m of members.slice(1)) {
        if (m.entry.offset - span.end <= READ_GAP_BYTES && endOf(m) - span.start <= READ_SPAN_BYTES) {
          span.blocks.push(m);
          span.end = Math.max(span.end, endOf(m));
        } else {
          reads.push(this.readSpan(jobId, span, results));
          span = { blocks: [m], start: m.entry.offset, end: endOf(m) };
        }
      }
      reads.push(this.readSpan(jobId, span, results));
    }
    await Promise.all(reads);
    return results;
  }

  /** One ranged GET of a pack, bytes `[start, end)`, for the blocks of a span; each result set in `results`. */
  private async readSpan(
    jobId: string,
    span: { readonly blocks: readonly PackRead[]; readonly start: number; readonly end: number },
    results: BlockRead[],
  ): Promise<void> {
    const { blocks, start, end } = span;
    const { key } = blocks[0]!.entry;
    const where = `s3://${this.bucket}/${key} (bytes ${start}-${end - 1})`;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.getObject('getBlock', where, key, `bytes=${start}-${end - 1}`);
    } catch (error) {
      for (const b of blocks) results[b.k] = { error };
      return;
    }
    for (const b of blocks) {
      const location = this.locationOf(b.entry);
      const from = b.entry.offset - start;
      if (bytes === undefined) {
        results[b.k] = { error: new BlockMissingError(jobId, b.address, location) };
      } else if (bytes.length < from + b.entry.size) {
        results[b.k] = { error: sizeDisagrees(location, Math.max(0, bytes.length - from), b.entry.size) };
      } else {
        results[b.k] = { bytes: bytes.slice(from, from + b.entry.size) };
      }
    }
  }

  /** The block an index entry names: its object, or its range of a pack. */
  private async readEntry(jobId: string, address: string, entry: IndexEntry): Promise<Uint8Array> {
    if (entry.offset !== undefined && entry.size === 0) return new Uint8Array(0);
    const where = this.locationOf(entry);
    const range =
      entry.offset === undefined ? undefined : `bytes=${entry.offset}-${entry.offset + entry.size - 1}`;
    const bytes = await this.getObject('getBlock', where, entry.key, range);
    // The index names the block but the object is gone: damage, reported as missing where it should be.
    if (bytes === undefined) throw new BlockMissingError(jobId, address, where);
    if (bytes.length !== entry.size) throw sizeDisagrees(where, bytes.length, entry.size);
    return bytes;
  }

  /** An object's bytes (or a range of them), read whole within one attempt; undefined when there is none. */
  private async getObject(
    operation: string,
    where: string,
    key: string,
    range?: string,
  ): Promise<Uint8Array | undefined> {
    return this.call(operation, where, async () => {
      try {
        const got = await this.s3.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: range } : {}) }),
        );
        if (!got.Body) throw new SnapshotRecordInvalidError(where, 'the object has no body');
        return await got.Body.transformToByteArray(); // inside the attempt: a broken body is retried whole
      } catch (err) {
        if (errorName(err) === 'NoSuchKey') return undefined;
        throw err;
      }
    });
  }

  /** The index entry first; then the object, unless it is a pack another entry still names. */
  async deleteBlock(jobId: string, address: string): Promise<void> {
    await this.deleteBlocks(jobId, [address]);
  }

  /**
   * The index entries first (one bulk write), then the blocks' own objects and the packs no entry names any more (one
   * `DeleteObjects` per thousand keys). An entry of a version this code does not know is refused before anything
   * is deleted.
   */
  async deleteBlocks(jobId: string, addresses: readonly string[]): Promise<{ bytes: number }> {
    checkJobId(jobId);
    if (addresses.length === 0) return { bytes: 0 };
    const entries = await Promise.all(addresses.map((a) => this.indexed(jobId, a)));
    const ids = addresses.map((a) => `${jobId}:${a}`);
    const where = `${this.database}.${SNAPSHOT_BLOCK_OBJECTS_COLLECTION} (${ids.length} blocks of job ${jobId})`;
    await mongoGuard(this.classifyMongo, 'deleteBlocks', where, async () => {
      const result = await this.objects.bulkWrite(
        ids.map((_id) => ({ deleteOne: { filter: { _id, ...OBJECT_READABLE } } })),
        { ordered: false },
      );
      // Fewer deleted than found: read them again, which throws for an entry of a version this code does not know.
      if (result.deletedCount < entries.filter((e) => e !== undefined).length) {
        await Promise.all(addresses.map((a) => this.indexed(jobId, a)));
      }
    });
    let bytes = 0;
    const doomed: string[] = [];
    const packs = new Set<string>();
    for (const [k, address] of addresses.entries()) {
      const entry = entries[k];
      this.locations.delete(ids[k]!);
      bytes += entry?.size ?? 0;
      if (entry?.offset !== undefined) packs.add(entry.key);
      else doomed.push(entry?.key ?? this.key(jobId, address)); // a lone object, or one a crashed put left
    }
    const named = await Promise.all([...packs].map((key) => this.isNamed('deleteBlocks', jobId, key, where)));
    doomed.push(...[...packs].filter((_, k) => !named[k]));
    await this.deleteObjects('deleteBlocks', `s3://${this.bucket}/${this.prefix}/${jobId}/`, doomed);
    return { bytes };
  }

  /** Deletes the pack under `key` unless an index entry of the job still names it (a block still in it). */
  private async deletePackUnlessNamed(
    operation: string,
    jobId: string,
    key: string,
    where: string,
  ): Promise<void> {
    if (!(await this.isNamed(operation, jobId, key, where))) await this.deleteObject(operation, key);
  }

  /** Whether an index entry of the job names the object under `key`. */
  private async isNamed(operation: string, jobId: string, key: string, where: string): Promise<boolean> {
    const entry = await mongoGuard(this.classifyMongo, operation, where, () =>
      this.objects.findOne({ key, jobId }, { projection: { _id: 1 } }),
    );
    return entry !== null;
  }

  /** The objects under `prefix`, a listing page (up to a thousand) at a time. */
  private async *listObjects(operation: string, prefix: string, where: string): AsyncIterable<_Object[]> {
    for (let token: string | undefined, more = true; more;) {
      const page = await this.call(operation, where, () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: 1000,
            ContinuationToken: token,
          }),
        ),
      );
      yield page.Contents ?? [];
      token = page.NextContinuationToken;
      more = page.IsTruncated === true && token !== undefined;
    }
  }

  /** Deletes the objects under `keys` (any number; one `DeleteObjects` per thousand); every one, or it throws. */
  private async deleteObjects(operation: string, where: string, keys: readonly string[]): Promise<void> {
    for (let from = 0; from < keys.length; from += 1000) {
      const objects = keys.slice(from, from + 1000).map((Key) => ({ Key }));
      const result = await this.call(operation, where, () =>
        this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
        ),
      );
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        throw new SnapshotStoreUnavailableError(
          operation,
          where,
          `${failed.length} objects not deleted (first: ${failed[0]?.Key} ${failed[0]?.Code})`,
          { retriable: true },
        );
      }
    }
  }

  private async deleteObject(operation: string, key: string): Promise<void> {
    await this.call(operation, `s3://${this.bucket}/${key}`, () =>
      this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  async *listBlocks(jobId: string): AsyncIterable<string> {
    checkJobId(jobId);
    const where = `${this.database}.${SNAPSHOT_BLOCK_OBJECTS_COLLECTION}`;
    const cursor = this.objects.find({ jobId }, { projection: { _id: 1, v: 1, address: 1 } });
    try {
      for (;;) {
        const doc = await mongoGuard(this.classifyMongo, 'listBlocks', where, () => cursor.next());
        if (doc === null) return;
        const docWhere = this.indexWhere(doc._id);
        checkRecordVersion(BLOCK_OBJECT_FORMAT, doc, docWhere);
        if (!isAddress(doc.address) || doc._id !== `${jobId}:${doc.address}`) {
          throw new SnapshotRecordInvalidError(docWhere, 'address disagrees with _id');
        }
        yield doc.address;
      }
    } finally {
      await cursor.close();
    }
  }

  /**
   * The object of a block read (or looked up) lately, with its byte range when it is in a pack; otherwise where a
   * block of its own would be.
   */
  blockLocation(jobId: string, address: string): string {
    return this.locations.get(`${jobId}:${address}`) ?? `s3://${this.bucket}/${this.key(jobId, address)}`;
  }

  private locationOf(entry: IndexEntry): string {
    const object = `s3://${this.bucket}/${entry.key}`;
    return entry.offset === undefined
      ? object
      : `${object} (bytes ${entry.offset}-${entry.offset + entry.size - 1})`;
  }

  // ---- records and the lock (MongoDB) ------------------------------------------------------------------------

  putSnapshot(record: SnapshotRecord): Promise<void> {
    return this.meta.putSnapshot(record);
  }

  getSnapshot(jobId: string, snapshotId: string): Promise<SnapshotRecord | undefined> {
    return this.meta.getSnapshot(jobId, snapshotId);
  }

  listSnapshots(jobId: string): Promise<SnapshotRecord[]> {
    return this.meta.listSnapshots(jobId);
  }

  deleteSnapshot(jobId: string, snapshotId: string): Promise<void> {
    return this.meta.deleteSnapshot(jobId, snapshotId);
  }

  acquireLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    return this.meta.acquireLock(jobId, owner, ttlMs);
  }

  renewLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    return this.meta.renewLock(jobId, owner, ttlMs);
  }

  releaseLock(jobId: string, owner: string): Promise<void> {
    return this.meta.releaseLock(jobId, owner);
  }

  /** Records, then the index, then every object and unfinished upload under the job's prefix, then the lock. */
  async deleteJob(jobId: string): Promise<void> {
    checkJobId(jobId);
    await this.meta.deleteJobRecords(jobId);
    await mongoGuard(
      this.classifyMongo,
      'deleteJob',
      `${this.database}.${SNAPSHOT_BLOCK_OBJECTS_COLLECTION}`,
      () => this.objects.deleteMany({ jobId }),
    );
    const prefix = `${this.prefix}/${jobId}/`;
    const where = `s3://${this.bucket}/${prefix}`;
    for await (const objects of this.listObjects('deleteJob', prefix, where)) {
      const keys = objects.flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
      await this.deleteObjects('deleteJob', where, keys);
    }
    await this.abortUploads('deleteJob', prefix, where);
    await this.meta.deleteJobLock(jobId);
  }

  /**
   * Removes, among the job's objects older than `olderThan`, those no index entry names: a block or pack whose
   * writer was killed between its PUT and its index entry (the write order: object first), and the pack a
   * grooming killed between its last entry and the object. Then aborts the job's multipart uploads started before
   * `olderThan` (a writer killed mid-upload; the parts cost storage until aborted). Under the job's lock no writer
   * adopts an object meanwhile; a writer that lost its lock long ago (the grace period) cannot complete a snapshot.
   */
  async sweepLeftovers(jobId: string, options: SweepLeftoversOptions): Promise<LeftoversSwept> {
    checkJobId(jobId);
    const cutoff = options.olderThan.getTime();
    const prefix = `${this.prefix}/${jobId}/`;
    const where = `s3://${this.bucket}/${prefix}`;
    let removed = 0;
    let bytes = 0;
    for await (const objects of this.listObjects('sweepLeftovers', prefix, where)) {
      const old = new Map<string, number>();
      for (const o of objects) {
        if (o.Key === undefined || o.LastModified === undefined || o.LastModified.getTime() >= cutoff)
          continue;
        if (this.isJobObjectKey(jobId, o.Key)) old.set(o.Key, o.Size ?? 0);
      }
      if (old.size > 0) {
        // One `$in` per page (the key index serves it on MongoDB; FerretDB 1.x scans the collection for it).
        const named = await mongoGuard(
          this.classifyMongo,
          'sweepLeftovers',
          `${this.database}.${SNAPSHOT_BLOCK_OBJECTS_COLLECTION}`,
          () =>
            this.objects
              .find({ jobId, key: { $in: [...old.keys()] } }, { projection: { _id: 0, key: 1 } })
              .toArray(),
        );
        for (const doc of named) old.delete(doc.key);
      }
      if (old.size > 0) {
        if (!(await options.stillHeld())) return { removed, bytes, stopped: true };
        await this.deleteObjects('sweepLeftovers', where, [...old.keys()]);
        removed += old.size;
        for (const size of old.values()) bytes += size;
      }
    }
    const aborted = await this.abortUploads('sweepLeftovers', prefix, where, {
      before: cutoff,
      stillHeld: options.stillHeld,
    });
    if (aborted === undefined) return { removed, bytes, stopped: true };
    return { removed: removed + aborted, bytes };
  }

  /** Whether `key` is a block's or a pack's object of the job (`<prefix>/<jobId>/{blocks,packs}/<aa>/<hex>`). */
  private isJobObjectKey(jobId: string, key: string): boolean {
    const rest = key.slice(`${this.prefix}/${jobId}/`.length).split('/');
    return (
      rest.length === 3 &&
      (rest[0] === 'blocks' || rest[0] === 'packs') &&
      isAddress(rest[2]!) &&
      rest[1] === rest[2]!.slice(0, 2)
    );
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  /** The object key of a pack: `<prefix>/<jobId>/packs/<aa>/<id>`. */
  private packKey(jobId: string, id: string): string {
    return `${this.prefix}/${checkJobId(jobId)}/packs/${id.slice(0, 2)}/${id}`;
  }

  /** The object key of a block: `<prefix>/<jobId>/blocks/<aa>/<address>`. */
  key(jobId: string, address: string): string {
    checkJobId(jobId);
    checkAddress(address);
    return `${this.prefix}/${jobId}/blocks/${address.slice(0, 2)}/${address}`;
  }

  /**
   * The block's index entry (version-checked, its key inside the job's prefix), or undefined. Remembers where the
   * block is, for `blockLocation`.
   */
  private async indexed(jobId: string, address: string): Promise<IndexEntry | undefined> {
    const _id = `${checkJobId(jobId)}:${checkAddress(address)}`;
    const where = this.indexWhere(_id);
    const entry = await mongoGuard(this.classifyMongo, 'index', where, async () => {
      const doc = await this.objects.findOne({ _id }, { projection: { v: 1, size: 1, key: 1, offset: 1 } });
      if (doc === null) return undefined;
      return this.checkEntry(jobId, address, doc, where);
    });
    if (entry !== undefined) {
      this.locations.delete(_id);
      this.locations.set(_id, this.locationOf(entry));
      if (this.locations.size > LOCATIONS_KEPT)
        this.locations.delete(this.locations.keys().next().value as string);
    }
    return entry;
  }

  /** An index entry's fields, checked: version, size, and a key of the job's (its own block's, or a pack's). */
  private checkEntry(
    jobId: string,
    address: string,
    doc: Pick<ObjectDoc, 'v' | 'size' | 'key' | 'offset'>,
    where: string,
  ): IndexEntry {
    checkRecordVersion(BLOCK_OBJECT_FORMAT, doc, where);
    if (!Number.isSafeInteger(doc.size) || doc.size < 0) {
      throw new SnapshotRecordInvalidError(where, 'size is not a byte count');
    }
    if (doc.offset === undefined) return { size: doc.size, key: this.key(jobId, address) };
    const packs = `${this.prefix}/${jobId}/packs/`;
    if (!Number.isSafeInteger(doc.offset) || doc.offset < 0) {
      throw new SnapshotRecordInvalidError(where, 'offset is not a byte count');
    }
    if (typeof doc.key !== 'string' || !doc.key.startsWith(packs) || doc.key.includes('..')) {
      throw new SnapshotRecordInvalidError(where, `a pack key outside ${packs}`);
    }
    return { size: doc.size, key: doc.key, offset: doc.offset };
  }

  /**
   * `bytes` under `key`, by one PUT up to `multipartThresholdBytes`, else a multipart upload; the size of what is
   * stored under the key: these bytes, or an object put there before (kept).
   */
  private putWhole(key: string, bytes: Uint8Array): Promise<number> {
    return bytes.length <= this.multipartThreshold
      ? this.putObject(key, bytes)
      : this.putMultipart(key, bytes);
  }

  /** A single conditional PUT; the size stored under the key (another object's when one was there). */
  private async putObject(key: string, bytes: Uint8Array): Promise<number> {
    const where = `s3://${this.bucket}/${key}`;
    const kept = await this.call('putBlock', where, async () => {
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.length,
            ...(this.conditional ? { IfNoneMatch: '*' } : {}),
          }),
        );
        return false;
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err; // 412: an object is there already (a crashed or earlier put)
        return true;
      }
    });
    return kept ? this.storedSize(key) : bytes.length;
  }

  /** The size of the object under `key`, which must exist. */
  private async storedSize(key: string): Promise<number> {
    const where = `s3://${this.bucket}/${key}`;
    const head = await this.call('putBlock', where, () =>
      this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
    );
    if (head.ContentLength === undefined) {
      throw new SnapshotStoreUnavailableError('putBlock', where, 'HeadObject answered no size', {
        retriable: true,
      });
    }
    return head.ContentLength;
  }

  /** A multipart upload completed conditionally; the size stored under the key (as {@link putObject}). */
  private async putMultipart(key: string, bytes: Uint8Array): Promise<number> {
    const where = `s3://${this.bucket}/${key}`;
    const created = await this.call('putBlock', where, () =>
      this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key })),
    );
    const uploadId = created.UploadId;
    if (uploadId === undefined) {
      throw new SnapshotStoreUnavailableError(
        'putBlock',
        where,
        'CreateMultipartUpload answered no UploadId',
        {
          retriable: true,
        },
      );
    }
    let completed = false;
    let kept = false;
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      for (let n = 0; n * this.partBytes < bytes.length; n++) {
        const body = bytes.subarray(n * this.partBytes, (n + 1) * this.partBytes);
        const part = await this.call('putBlock', `${where} part ${n + 1}`, () =>
          this.s3.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: n + 1,
              Body: body,
              ContentLength: body.length,
            }),
          ),
        );
        if (part.ETag === undefined) {
          throw new SnapshotStoreUnavailableError('putBlock', where, `UploadPart ${n + 1} answered no ETag`, {
            retriable: true,
          });
        }
        parts.push({ PartNumber: n + 1, ETag: part.ETag });
      }
      await this.call('putBlock', where, async ({ attempt }) => {
        try {
          await this.s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts },
              ...(this.conditional ? { IfNoneMatch: '*' } : {}),
            }),
          );
          completed = true;
        } catch (err) {
          if (isPreconditionFailed(err)) {
            kept = true; // an object is there already: it stays, this upload is aborted
            return;
          }
          // A retried complete whose first attempt did complete finds no upload: the object tells.
          if (
            attempt > 1 &&
            errorName(err) === 'NoSuchUpload' &&
            (await this.objectSize(key)) === bytes.length
          ) {
            completed = true;
            return;
          }
          throw err;
        }
      });
    } finally {
      if (!completed) {
        await this.s3
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined); // best effort: deleteJob aborts what is left
      }
    }
    return kept ? this.storedSize(key) : bytes.length;
  }

  private async objectSize(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength;
    } catch {
      return undefined;
    }
  }

  /**
   * Aborts the unfinished multipart uploads under `prefix` (all of them, or those started before `only.before`);
   * how many. `undefined` when `only.stillHeld` answered false.
   */
  private async abortUploads(
    operation: string,
    prefix: string,
    where: string,
    only?: { before: number; stillHeld: () => Promise<boolean> },
  ): Promise<number | undefined> {
    let aborted = 0;
    for (let keyMarker: string | undefined, idMarker: string | undefined, more = true; more;) {
      const page = await this.call(operation, where, () =>
        this.s3.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
        ),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        if (only !== undefined) {
          if (upload.Initiated === undefined || upload.Initiated.getTime() >= only.before) continue;
          if (!(await only.stillHeld())) return undefined;
        }
        await this.call(operation, where, async () => {
          try {
            await this.s3.send(
              new AbortMultipartUploadCommand({
                Bucket: this.bucket,
                Key: upload.Key,
                UploadId: upload.UploadId,
              }),
            );
          } catch (err) {
            if (errorName(err) !== 'NoSuchUpload') throw err;
          }
        });
        aborted++;
      }
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
      more = page.IsTruncated === true && keyMarker !== undefined;
    }
    return aborted;
  }

  /**
   * One S3 request with retries: retriable failures (the classifier's verdict) are retried with backoff; when
   * attempts or time run out, a retriable `SnapshotStoreUnavailableError`; a fatal failure, a non-retriable one.
   */
  private async call<T>(
    operation: string,
    location: string,
    fn: (ctx: { attempt: number }) => Promise<T>,
  ): Promise<T> {
    try {
      return await retry(fn, {
        backoff: this.backoff,
        maxAttempts: this.maxAttempts,
        maxElapsedMs: this.maxElapsedMs,
        // 409 ConditionalRequestConflict: another conditional write to the key is in flight; S3 says retry.
        isRetriable: (err) =>
          !(err instanceof TidemarkError) &&
          (this.classifyS3(err).retriable || errorName(err) === 'ConditionalRequestConflict'),
        what: `${operation} ${location}`,
      });
    } catch (err) {
      if (err instanceof TidemarkError || isProgrammingError(err)) throw err;
      if (err instanceof RetriesExhaustedError) {
        throw new SnapshotStoreUnavailableError(operation, location, this.classifyS3(err.cause).reason, {
          retriable: true,
          attempts: err.attempts,
          cause: err,
        });
      }
      const verdict = this.classifyS3(err);
      throw new SnapshotStoreUnavailableError(operation, location, verdict.reason, {
        retriable: verdict.retriable,
        cause: err,
      });
    }
  }

  private indexWhere(id: string): string {
    return documentLocation(this.database, SNAPSHOT_BLOCK_OBJECTS_COLLECTION, id);
  }
}

function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown; Code?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function isPreconditionFailed(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return errorName(err) === 'PreconditionFailed' || status === 412;
}
