import { Binary, Timestamp, type Collection, type Db, type MongoClient } from 'mongodb';
import {
  checkRecordVersion,
  documentLocation,
  recordFormat,
  TidemarkError,
  type OpTime,
  type OplogSliceMeta,
  type OplogStore,
  type StoredSliceTotals,
  type SliceMeta,
  type StoredSlice,
} from '@tidemark/domain';

/** Chunk size of stored payloads: well under MongoDB's 16 MiB document limit. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
export const DEFAULT_OPLOG_STORE_DB = 'tidemark_oplogstore';

/** Format of a `slices` document (docs/format.md, "Stored records"). */
export const SLICE_DOC_FORMAT = recordFormat('oplog-store slice', 1);
/** Format of a `slice_chunks` document. */
export const SLICE_CHUNK_FORMAT = recordFormat('oplog-store payload chunk', 1);

const SLICES = 'slices';
const SLICE_CHUNKS = 'slice_chunks';

interface SliceDoc {
  _id: string;
  /** Format version, `SLICE_DOC_FORMAT`; absent in documents written before versions (read as 1). */
  v?: number;
  jobId: string;
  syncId: string;
  kind: SliceMeta['kind'];
  origin?: string;
  namespace?: string;
  sequence: number;
  prevTs?: Timestamp;
  firstTs?: Timestamp;
  lastTs?: Timestamp;
  docCount: number;
  rawBytes: number;
  compressedBytes: number;
  codec: SliceMeta['codec'];
  checksum: string;
  chunks: number;
  storedAt: Date;
}

interface ChunkDoc {
  /** `chunkId(s, n)`. */
  _id: string;
  /** The slice id. */
  s: string;
  /** The chunk's number, from 0. */
  n: number;
  data: Binary;
  /** Format version, `SLICE_CHUNK_FORMAT`; absent in documents written before versions (read as 1). */
  v?: number;
}

/**
 * A payload chunk's `_id`: `<sliceId>#<n>`. A string, not a `{ s, n }` document: FerretDB, the backup side in this
 * project's tests, pushes an `_id` lookup down to SQLite only for a string or ObjectId `_id`, and otherwise decodes
 * every chunk of the collection (megabytes each) to find one; MongoDB indexes both alike.
 */
export function chunkId(sliceId: string, n: number): string {
  return `${sliceId}#${n}`;
}

const toTs = (p: OpTime) => new Timestamp({ t: p.t, i: p.i });
const fromTs = (ts: Timestamp): OpTime => ({ t: ts.t, i: ts.i });

export class OplogStoreCorruptError extends TidemarkError {
  override readonly name = 'OplogStoreCorruptError';
  constructor(
    readonly sliceId: string,
    reason: string,
  ) {
    super(`oplog store: slice ${sliceId} is unreadable: ${reason}`, { retriable: false });
  }
}

/** The oplog store on the backup-side MongoDB; see README.md for the layout and the write order. */
export class MongoOplogStore implements OplogStore {
  private readonly slices: Collection<SliceDoc>;
  private readonly chunks: Collection<ChunkDoc>;

  constructor(
    client: MongoClient,
    private readonly dbName = process.env['TIDEMARK_OPLOG_STORE_DB'] ?? DEFAULT_OPLOG_STORE_DB,
  ) {
    const db: Db = client.db(dbName);
    this.slices = db.collection<SliceDoc>(SLICES);
    this.chunks = db.collection<ChunkDoc>(SLICE_CHUNKS);
  }

  /** Creates the indexes the queries below rely on (idempotent). */
  async init(): Promise<void> {
    // One index per call: FerretDB 1.24 closes the connection on a createIndexes naming several indexes that all
    // exist already (a second init).
    await this.slices.createIndexes([
      { key: { jobId: 1, syncId: 1, kind: 1, lastTs: 1 }, name: 'job_sync_kind_lastTs' },
    ]);
    await this.slices.createIndexes([
      { key: { jobId: 1, syncId: 1, kind: 1, prevTs: 1 }, name: 'job_sync_kind_prevTs' },
    ]);
    await this.chunks.createIndexes([{ key: { s: 1 }, name: 'slice' }]);
  }

  async put(meta: SliceMeta, payload: Buffer): Promise<'stored' | 'duplicate'> {
    if (await this.slices.findOne({ _id: meta.sliceId }, { projection: { _id: 1 } })) return 'duplicate';
    const count = Math.max(1, Math.ceil(payload.length / CHUNK_BYTES));
    // Payload first. A chunk left by an attempt that crashed before its metadata was written is replaced, so the
    // retry's bytes win; the insert comes first because it needs no lookup.
    for (let n = 0; n < count; n++) {
      const chunk: ChunkDoc = {
        _id: chunkId(meta.sliceId, n),
        s: meta.sliceId,
        n,
        data: new Binary(payload.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES)),
        v: SLICE_CHUNK_FORMAT.current,
      };
      try {
        await this.chunks.insertOne(chunk);
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
        await this.chunks.replaceOne({ _id: chunk._id }, chunk);
      }
    }
    // ...metadata last: the slice becomes visible only now, whole.
    try {
      await this.slices.insertOne(this.toDoc(meta, count));
      return 'stored';
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return 'duplicate';
      throw err;
    }
  }

  async getMeta(sliceId: string): Promise<SliceMeta | undefined> {
    const doc = await this.slices.findOne({ _id: sliceId });
    return doc ? this.fromDoc(doc) : undefined;
  }

  async get(sliceId: string): Promise<StoredSlice | undefined> {
    const doc = await this.slices.findOne({ _id: sliceId });
    if (!doc) return undefined;
    const meta = this.fromDoc(doc);
    const parts: Buffer[] = [];
    for (let n = 0; n < doc.chunks; n++) {
      const chunk = await this.chunks.findOne({ _id: chunkId(sliceId, n) });
      if (!chunk) throw new OplogStoreCorruptError(sliceId, `chunk ${n} of ${doc.chunks} is missing`);
      checkRecordVersion(SLICE_CHUNK_FORMAT, chunk, this.where(SLICE_CHUNKS, chunk._id));
      parts.push(Buffer.from(chunk.data.buffer));
    }
    return { meta, payload: Buffer.concat(parts) };
  }

  async findCovering(jobId: string, syncId: string, p: OpTime): Promise<OplogSliceMeta | undefined> {
    const doc = await this.slices.findOne(
      { jobId, syncId, kind: 'oplog', prevTs: { $lte: toTs(p) }, lastTs: { $gt: toTs(p) } },
      { sort: { lastTs: -1 } },
    );
    return doc ? (this.fromDoc(doc) as OplogSliceMeta) : undefined;
  }

  async latestOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    const doc = await this.slices.findOne({ jobId, syncId, kind: 'oplog' }, { sort: { lastTs: -1 } });
    if (!doc) return undefined;
    this.checkVersion(doc);
    return doc.lastTs ? fromTs(doc.lastTs) : undefined;
  }

  async oldestOplogTs(jobId: string, syncId: string): Promise<OpTime | undefined> {
    const doc = await this.slices.findOne({ jobId, syncId, kind: 'oplog' }, { sort: { prevTs: 1 } });
    if (!doc) return undefined;
    this.checkVersion(doc);
    return doc.prevTs ? fromTs(doc.prevTs) : undefined;
  }

  async deleteOplogThrough(jobId: string, syncId: string, ts: OpTime): Promise<number> {
    // Metadata first (readers stop seeing the slices), then the payload chunks. A crash between the two costs space
    // only: chunks no slice names are never read (the same holds for `deleteSync`).
    const filter = { jobId, syncId, kind: 'oplog' as const, lastTs: { $lte: toTs(ts) } };
    const ids: string[] = [];
    for await (const doc of this.slices.find(filter, { projection: { _id: 1 } })) ids.push(doc._id);
    if (ids.length === 0) return 0;
    await this.slices.deleteMany({ _id: { $in: ids } });
    await this.chunks.deleteMany({ s: { $in: ids } });
    return ids.length;
  }

  async countEntriesAfter(jobId: string, syncId: string, p: OpTime): Promise<number> {
    let n = 0;
    const cursor = this.slices.find(
      { jobId, syncId, kind: 'oplog', firstTs: { $gt: toTs(p) } },
      { projection: { docCount: 1, v: 1 } },
    );
    for await (const doc of cursor) {
      this.checkVersion(doc);
      n += doc.docCount;
    }
    return n;
  }

  async list(jobId: string, syncId: string, kind: SliceMeta['kind']): Promise<SliceMeta[]> {
    const out: SliceMeta[] = [];
    for await (const doc of this.slices.find({ jobId, syncId, kind })) out.push(this.fromDoc(doc));
    return out;
  }

  async storedTotals(jobId: string, syncId: string): Promise<StoredSliceTotals> {
    let slices = 0;
    let bytes = 0;
    const cursor = this.slices.find({ jobId, syncId }, { projection: { compressedBytes: 1, v: 1 } });
    for await (const doc of cursor) {
      this.checkVersion(doc);
      slices += 1;
      bytes += doc.compressedBytes;
    }
    return { slices, bytes };
  }

  async deleteSync(jobId: string, syncId: string): Promise<void> {
    // Metadata first (readers stop seeing the slices), then the payload chunks.
    const ids: string[] = [];
    for await (const doc of this.slices.find({ jobId, syncId }, { projection: { _id: 1 } }))
      ids.push(doc._id);
    await this.slices.deleteMany({ jobId, syncId });
    if (ids.length > 0) await this.chunks.deleteMany({ s: { $in: ids } });
  }

  private toDoc(meta: SliceMeta, chunks: number): SliceDoc {
    const doc: SliceDoc = {
      _id: meta.sliceId,
      v: SLICE_DOC_FORMAT.current,
      jobId: meta.jobId,
      syncId: meta.syncId,
      kind: meta.kind,
      sequence: meta.sequence,
      docCount: meta.docCount,
      rawBytes: meta.rawBytes,
      compressedBytes: meta.compressedBytes,
      codec: meta.codec,
      checksum: meta.checksum,
      chunks,
      storedAt: new Date(),
    };
    if (meta.kind === 'initial') {
      doc.origin = meta.origin;
      doc.namespace = meta.namespace;
    } else if (meta.kind === 'catalog') {
      doc.origin = meta.origin;
    } else {
      doc.prevTs = toTs(meta.prevTs);
      if (meta.firstTs) doc.firstTs = toTs(meta.firstTs);
      doc.lastTs = toTs(meta.lastTs);
    }
    return doc;
  }

  /** A reader's first step on a `slices` document: an unknown format version stops it here. */
  private checkVersion(doc: Pick<SliceDoc, '_id' | 'v'>): void {
    checkRecordVersion(SLICE_DOC_FORMAT, doc, this.where(SLICES, doc._id));
  }

  private where(collection: string, id: string): string {
    return documentLocation(this.dbName, collection, id);
  }

  private fromDoc(doc: SliceDoc): SliceMeta {
    this.checkVersion(doc);
    const base = {
      jobId: doc.jobId,
      syncId: doc.syncId,
      sliceId: doc._id,
      sequence: Number(doc.sequence),
      docCount: Number(doc.docCount),
      rawBytes: Number(doc.rawBytes),
      compressedBytes: Number(doc.compressedBytes),
      codec: doc.codec,
      checksum: doc.checksum,
    };
    switch (doc.kind) {
      case 'initial':
        return {
          ...base,
          kind: 'initial',
          origin: doc.origin as 'scan' | 'missing',
          namespace: doc.namespace ?? '',
        };
      case 'catalog':
        return { ...base, kind: 'catalog', origin: doc.origin as 'scan' | 'missing' };
      case 'oplog': {
        if (!doc.prevTs || !doc.lastTs)
          throw new OplogStoreCorruptError(doc._id, 'oplog slice without its range');
        const meta: OplogSliceMeta = {
          ...base,
          kind: 'oplog',
          prevTs: fromTs(doc.prevTs),
          lastTs: fromTs(doc.lastTs),
        };
        return doc.firstTs ? { ...meta, firstTs: fromTs(doc.firstTs) } : meta;
      }
      default:
        throw new OplogStoreCorruptError(doc._id, `unknown kind ${String(doc.kind)}`);
    }
  }
}
