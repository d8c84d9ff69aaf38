/**
 * `MongoBlockstore` (`blockstore`): a job's blocks, snapshot records and lock in the backup-side MongoDB, in one
 * database the caller names (default `tidemark_snapshots`; docs/format.md, "Snapshot stores"):
 *
 * - `snapshot_blocks`: `{ _id: "<jobId>:<address>", v: 1, jobId, address, size, data: BinData, storedAt }` for a
 *   block of at most `partBytes` (4 MiB by default), or `{ ..., size, parts: <count>, w: "<write id>" }` without
 *   `data` for a larger one, whose bytes are in
 * - `snapshot_block_parts`: `{ _id: "<jobId>:<address>:<w>#<n>", v: 1, jobId, block: "<jobId>:<address>", w, n,
 *   data: BinData }`, bytes `[n * partBytes, (n + 1) * partBytes)`;
 * - `snapshots` and `snapshot_locks`: `mongo-snapshot-metadata.ts`.
 *
 * Atomicity: the `snapshot_blocks` document is the block. It is inserted last, in one insert, after every part of
 * its write (`w`, random per `putBlock` call) is stored; until then no reader sees the block. A crash leaves at most
 * parts no block document names; `deleteBlock` and `deleteJob` remove them. Two concurrent puts of one address
 * write their own parts; one insert of the block document wins, the other call removes its parts: the first bytes
 * stay. So MongoDB's 16 MiB document limit bounds nothing: a block of any size is stored in parts.
 */
import { randomBytes } from 'node:crypto';
import { Binary, type Collection, type Filter, type MongoClient } from 'mongodb';
import { checkRecordVersion, documentLocation, versionFilters } from '@tidemark/domain';
import {
  BlockMissingError,
  type BlockToStore,
  type SnapshotRecord,
  type SnapshotStore,
  type StoreLockGrant,
} from '@tidemark/snapshots';
import {
  driverMongoClassifier,
  findByIds,
  insertAllowingDuplicates,
  isDuplicateKey,
  mongoGuard,
} from './mongo-guard';
import { DEFAULT_SNAPSHOTS_DATABASE, MongoSnapshotMetadata } from './mongo-snapshot-metadata';
import { BLOCK_FORMAT, BLOCK_PART_FORMAT } from './record-codec';
import { SnapshotRecordInvalidError, type StoreErrorClassifier } from './store-errors';
import { checkAddress, checkJobId, isAddress } from './store-keys';

export const SNAPSHOT_BLOCKS_COLLECTION = 'snapshot_blocks';
export const SNAPSHOT_BLOCK_PARTS_COLLECTION = 'snapshot_block_parts';
/** Bytes per part, and the largest block kept in its block document. */
export const DEFAULT_BLOCK_PART_BYTES = 4 * 1024 * 1024;
/** Leaves room for the document's other fields under MongoDB's 16 MiB limit. */
const MAX_PART_BYTES = 15 * 1024 * 1024;

interface BlockDoc {
  _id: string;
  v?: unknown;
  jobId: string;
  address: string;
  size: number;
  data?: Binary;
  parts?: number;
  w?: string;
  storedAt: Date;
}

interface PartDoc {
  _id: string;
  v?: unknown;
  jobId: string;
  block: string;
  w: string;
  n: number;
  data: Binary;
}

const BLOCK_READABLE = versionFilters(BLOCK_FORMAT).readable as Filter<BlockDoc>;

export interface MongoBlockstoreOptions {
  /** The database (default `tidemark_snapshots`). */
  readonly database?: string;
  /** Bytes per part for blocks larger than this (default 4 MiB, at most 15 MiB). */
  readonly partBytes?: number;
  /** The lock's clock. Default `Date.now`. */
  readonly clock?: () => number;
  /** Which driver errors are retriable: the apps pass `classifyMongoError` of `@tidemark/mongo`. */
  readonly classifyError?: StoreErrorClassifier;
}

export class MongoBlockstore implements SnapshotStore {
  readonly kind = 'blockstore' as const;
  readonly database: string;
  private readonly partBytes: number;
  private readonly blocks: Collection<BlockDoc>;
  private readonly parts: Collection<PartDoc>;
  private readonly meta: MongoSnapshotMetadata;
  private readonly classify: StoreErrorClassifier;

  constructor(client: MongoClient, options: MongoBlockstoreOptions = {}) {
    this.database = options.database ?? DEFAULT_SNAPSHOTS_DATABASE;
    this.partBytes = options.partBytes ?? DEFAULT_BLOCK_PART_BYTES;
    if (!Number.isSafeInteger(this.partBytes) || this.partBytes < 1 || this.partBytes > MAX_PART_BYTES) {
      throw new RangeError(`blockstore partBytes must be an integer in 1..${MAX_PART_BYTES}`);
    }
    const db = client.db(this.database);
    this.blocks = db.collection<BlockDoc>(SNAPSHOT_BLOCKS_COLLECTION);
    this.parts = db.collection<PartDoc>(SNAPSHOT_BLOCK_PARTS_COLLECTION);
    this.classify = options.classifyError ?? driverMongoClassifier;
    this.meta = new MongoSnapshotMetadata(client, this.database, options.clock, this.classify);
  }

  /** Creates the indexes (idempotent); call once before use. */
  async init(): Promise<void> {
    await this.meta.init();
    await mongoGuard(this.classify, 'init', this.database, async () => {
      await this.blocks.createIndex({ jobId: 1 });
      await this.parts.createIndex({ block: 1, w: 1, n: 1 });
      await this.parts.createIndex({ jobId: 1 });
    });
  }

  async putBlock(jobId: string, address: string, bytes: Uint8Array): Promise<void> {
    const _id = this.blockId(jobId, address);
    const where = this.blockLocation(jobId, address);
    await mongoGuard(this.classify, 'putBlock', where, async () => {
      if (await this.findBlock(_id, where)) return;
      const base = { _id, v: BLOCK_FORMAT.current, jobId, address, size: bytes.length };
      if (bytes.length <= this.partBytes) {
        await this.insertBlock({ ...base, data: new Binary(bytes), storedAt: new Date() }, where);
        return;
      }
      const w = randomBytes(8).toString('hex');
      const count = Math.ceil(bytes.length / this.partBytes);
      try {
        for (let n = 0; n < count; n++) {
          const data = new Binary(bytes.subarray(n * this.partBytes, (n + 1) * this.partBytes));
          await this.parts.insertOne({
            _id: `${_id}:${w}#${n}`,
            v: BLOCK_PART_FORMAT.current,
            jobId,
            block: _id,
            w,
            n,
            data,
          });
        }
        if (!(await this.insertBlock({ ...base, parts: count, w, storedAt: new Date() }, where))) {
          await this.parts.deleteMany({ block: _id, w }); // another put stored the block first
        }
      } catch (err) {
        await this.parts.deleteMany({ block: _id, w }).catch(() => undefined); // best effort: deleteBlock sweeps
        throw err;
      }
    });
  }

  /**
   * One unordered insert for the blocks of at most one part (a block already there keeps its document: the insert
   * of its `_id` fails and is ignored); larger blocks go through `putBlock` (their parts are written one by one).
   */
  async putBlocks(jobId: string, blocks: readonly BlockToStore[]): Promise<void> {
    const small: BlockDoc[] = [];
    for (const block of blocks) {
      if (block.bytes.length > this.partBytes) {
        await this.putBlock(jobId, block.address, block.bytes);
        continue;
      }
      small.push({
        _id: this.blockId(jobId, block.address),
        v: BLOCK_FORMAT.current,
        jobId,
        address: block.address,
        size: block.bytes.length,
        data: new Binary(block.bytes),
        storedAt: new Date(),
      });
    }
    const where = this.batchLocation(jobId, small.length);
    const taken = await mongoGuard(this.classify, 'putBlocks', where, () =>
      insertAllowingDuplicates(this.blocks, small),
    );
    // Blocks another put stored first stay as they are; their documents' versions are checked.
    if (taken.length > 0)
      await this.hasBlocks(
        jobId,
        taken.map((d) => d.address),
      );
  }

  async hasBlocks(jobId: string, addresses: readonly string[]): Promise<Set<string>> {
    const byId = new Map(addresses.map((a) => [this.blockId(jobId, a), a]));
    const where = this.batchLocation(jobId, byId.size);
    return mongoGuard(this.classify, 'hasBlocks', where, async () => {
      const found = new Set<string>();
      if (byId.size === 0) return found;
      for (const doc of await findByIds(this.blocks, [...byId.keys()], { v: 1 })) {
        checkRecordVersion(
          BLOCK_FORMAT,
          doc,
          documentLocation(this.database, SNAPSHOT_BLOCKS_COLLECTION, doc._id),
        );
        const address = byId.get(doc._id);
        if (address !== undefined) found.add(address);
      }
      return found;
    });
  }

  /** Where a batch of the job's blocks lives, to name it in errors. */
  private batchLocation(jobId: string, count: number): string {
    return `${this.database}.${SNAPSHOT_BLOCKS_COLLECTION} (${count} blocks of job ${jobId})`;
  }

  async hasBlock(jobId: string, address: string): Promise<boolean> {
    const _id = this.blockId(jobId, address);
    const where = this.blockLocation(jobId, address);
    return mongoGuard(
      this.classify,
      'hasBlock',
      where,
      async () => (await this.findBlock(_id, where)) !== undefined,
    );
  }

  async getBlock(jobId: string, address: string): Promise<Uint8Array> {
    const _id = this.blockId(jobId, address);
    const where = this.blockLocation(jobId, address);
    return mongoGuard(this.classify, 'getBlock', where, async () => {
      const doc = await this.blocks.findOne({ _id });
      if (doc === null) throw new BlockMissingError(jobId, address, where);
      checkRecordVersion(BLOCK_FORMAT, doc, where);
      const bad = (reason: string) => new SnapshotRecordInvalidError(where, reason);
      if (doc.jobId !== jobId || doc.address !== address) throw bad('jobId or address disagree with _id');
      if (!Number.isSafeInteger(doc.size) || doc.size < 0) throw bad('size is not a byte count');
      let bytes: Buffer;
      if (doc.data instanceof Binary) {
        bytes = Buffer.from(doc.data.buffer.subarray(0, doc.data.position));
      } else if (Number.isSafeInteger(doc.parts) && typeof doc.w === 'string') {
        bytes = await this.readParts(_id, doc.w, doc.parts as number, where);
      } else {
        throw bad('neither data nor parts');
      }
      if (bytes.length !== doc.size) throw bad(`holds ${bytes.length} bytes, size says ${doc.size}`);
      return bytes;
    });
  }

  async deleteBlock(jobId: string, address: string): Promise<void> {
    await this.deleteBlocks(jobId, [address]);
  }

  /**
   * The block documents first (readers stop seeing the blocks), then every part of them, each in one bulk write. A
   * document of a version this code does not know is refused before anything is deleted.
   */
  async deleteBlocks(jobId: string, addresses: readonly string[]): Promise<{ bytes: number }> {
    const ids = addresses.map((a) => this.blockId(jobId, a));
    if (ids.length === 0) return { bytes: 0 };
    const where = this.batchLocation(jobId, ids.length);
    return mongoGuard(this.classify, 'deleteBlocks', where, async () => {
      let bytes = 0;
      for (const doc of await findByIds(this.blocks, ids, { v: 1, size: 1 })) {
        checkRecordVersion(
          BLOCK_FORMAT,
          doc,
          documentLocation(this.database, SNAPSHOT_BLOCKS_COLLECTION, doc._id),
        );
        bytes += Number.isSafeInteger(doc.size) ? doc.size : 0;
      }
      // One request each, by `_id` equality (`findByIds` says why not `$in`).
      await this.blocks.bulkWrite(
        ids.map((_id) => ({ deleteOne: { filter: { _id, ...BLOCK_READABLE } } })),
        { ordered: false },
      );
      await this.parts.bulkWrite(
        ids.map((block) => ({ deleteMany: { filter: { block } } })),
        { ordered: false },
      );
      return { bytes };
    });
  }

  async *listBlocks(jobId: string): AsyncIterable<string> {
    checkJobId(jobId);
    const cursor = this.blocks.find({ jobId }, { projection: { _id: 1, v: 1, address: 1 } });
    try {
      for (;;) {
        const doc = await mongoGuard(
          this.classify,
          'listBlocks',
          `${this.database}.${SNAPSHOT_BLOCKS_COLLECTION}`,
          () => cursor.next(),
        );
        if (doc === null) return;
        const where = documentLocation(this.database, SNAPSHOT_BLOCKS_COLLECTION, doc._id);
        checkRecordVersion(BLOCK_FORMAT, doc, where);
        if (!isAddress(doc.address) || doc._id !== `${jobId}:${doc.address}`) {
          throw new SnapshotRecordInvalidError(where, 'address disagrees with _id');
        }
        yield doc.address;
      }
    } finally {
      await cursor.close();
    }
  }

  blockLocation(jobId: string, address: string): string {
    return documentLocation(this.database, SNAPSHOT_BLOCKS_COLLECTION, this.blockId(jobId, address));
  }

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

  /** Records first, then blocks and parts, then the lock; whatever their version (terminate). */
  async deleteJob(jobId: string): Promise<void> {
    checkJobId(jobId);
    await this.meta.deleteJobRecords(jobId);
    await mongoGuard(
      this.classify,
      'deleteJob',
      `${this.database}.${SNAPSHOT_BLOCKS_COLLECTION}`,
      async () => {
        await this.blocks.deleteMany({ jobId });
        await this.parts.deleteMany({ jobId });
      },
    );
    await this.meta.deleteJobLock(jobId);
  }

  private blockId(jobId: string, address: string): string {
    return `${checkJobId(jobId)}:${checkAddress(address)}`;
  }

  /** The block document's version-checked presence (`undefined` when absent). */
  private async findBlock(_id: string, where: string): Promise<true | undefined> {
    const doc = await this.blocks.findOne({ _id }, { projection: { v: 1 } });
    if (doc === null) return undefined;
    checkRecordVersion(BLOCK_FORMAT, doc, where);
    return true;
  }

  /** Inserts the block document; false when one is there already (checked for its version). */
  private async insertBlock(doc: BlockDoc, where: string): Promise<boolean> {
    try {
      await this.blocks.insertOne(doc);
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.findBlock(doc._id, where);
      return false;
    }
  }

  private async readParts(_id: string, w: string, count: number, where: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const part of this.parts.find({ block: _id, w }).sort({ n: 1 })) {
      const partWhere = documentLocation(this.database, SNAPSHOT_BLOCK_PARTS_COLLECTION, part._id);
      checkRecordVersion(BLOCK_PART_FORMAT, part, partWhere);
      if (part.n !== chunks.length || !(part.data instanceof Binary)) {
        throw new SnapshotRecordInvalidError(
          partWhere,
          `expected part ${chunks.length} of ${count} with data`,
        );
      }
      chunks.push(Buffer.from(part.data.buffer.subarray(0, part.data.position)));
    }
    if (chunks.length !== count) {
      throw new SnapshotRecordInvalidError(where, `has ${chunks.length} of its ${count} parts`);
    }
    return Buffer.concat(chunks);
  }
}
