/**
 * `DumpArchiveTarget`: a restore written as one mongodump archive (`--archive FILE`, optionally gzip with `--gzip`),
 * which `mongorestore --archive=FILE [--gzip]` reads. Layout (mongo-tools `common/archive`, format version "0.1";
 * docs/format.md, "Restore dumps"):
 *
 *   magic (6d e2 99 81) · header document · one collection-metadata document per namespace · terminator (ff ff ff ff)
 *   then blocks: namespace header {db, collection, EOF: false, CRC: 0} · documents · terminator
 *   and per namespace, once its documents are all written, an EOF block:
 *   {db, collection, EOF: true, CRC: CRC-64/ECMA of its documents} · terminator
 *
 * The prelude is written in `begin`, blocks as inserts arrive (namespaces interleave; a new header starts whenever
 * the namespace changes, as mongodump's multiplexer does), the EOF block in `finish`. The whole file is written
 * under `<FILE>.partial` and renamed to FILE in `end` after an fsync, so a crash never leaves a FILE that looks
 * whole. One stream: every write goes through one lock, in call order.
 */
import { once } from 'node:events';
import { createWriteStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { BSON, Long } from 'bson';
import { KeyedMutex, fsyncDir } from '@tidemark/util';
import { Crc64Ecma } from './crc64';
import {
  ARCHIVE_FORMAT_VERSION,
  ARCHIVE_MAGIC,
  ARCHIVE_TERMINATOR,
  COLLECTION_TYPE,
  DumpFormatError,
  partialPath,
  checkDocumentFraming,
  dumpNamespaceName,
  metadataJson,
  newCollectionUuid,
} from './dump-format';
import { summarizeDump } from './dump-reader';
import type { RestoreNamespace, RestoreTarget } from './ports';

export interface DumpArchiveTargetOptions {
  /** gzip the whole archive (mongodump `--archive --gzip`). */
  readonly gzip?: boolean;
  /**
   * The header's `server_version` (`X.Y.Z`): mongorestore parses it, warns when its major.minor differs from the
   * target server's, and reads time-series layouts by it. Default `'7.0.0'`.
   */
  readonly serverVersion?: string;
  /** The header's `tool_version`. Default `'tidemark'`. */
  readonly toolVersion?: string;
  /** The header's `concurrent_collections`: mongorestore restores at least this many at once. Default 4. */
  readonly concurrentCollections?: number;
  /** The collection UUID written in a namespace's metadata (default: a fresh random one per collection). */
  readonly collectionUuid?: (ns: RestoreNamespace) => string;
}

const TERMINATOR_BYTES = Buffer.alloc(4);
TERMINATOR_BYTES.writeUInt32LE(ARCHIVE_TERMINATOR);

interface ArchiveNamespace {
  readonly ns: RestoreNamespace;
  readonly db: string;
  readonly collection: string;
  readonly crc: Crc64Ecma;
  state: 'planned' | 'prepared' | 'finished';
}

export class DumpArchiveTarget implements RestoreTarget {
  private readonly file: string;
  private readonly partial: string;
  private readonly lock = new KeyedMutex();
  private readonly namespaces = new Map<string, ArchiveNamespace>();
  private out: Writable | undefined;
  private fileStream: Writable | undefined;
  private streamError: Error | undefined;
  /** The namespace whose block is open (its header written, no terminator yet), or undefined. */
  private current: string | undefined;
  private existing: Map<string, number> | undefined;
  private ended = false;

  constructor(
    file: string,
    private readonly options: DumpArchiveTargetOptions = {},
  ) {
    this.file = path.resolve(file);
    this.partial = partialPath(this.file);
    const version = options.serverVersion ?? '7.0.0';
    if (!/^\d+\.\d+\.\d+$/.test(version)) {
      throw new DumpFormatError(
        `server version ${JSON.stringify(version)} is not X.Y.Z (mongorestore parses it)`,
      );
    }
  }

  /** Documents of `ns` in an archive already at FILE (read whole, once); 0 when there is none. */
  async existingDocuments(ns: string): Promise<number> {
    dumpNamespaceName(ns);
    if (this.existing === undefined) {
      this.existing = new Map();
      try {
        await fsp.access(this.file);
      } catch {
        return 0;
      }
      let summary;
      try {
        summary = await summarizeDump(this.file);
      } catch (err) {
        throw new DumpFormatError(
          `an archive already there cannot be read; remove it or choose another file`,
          {
            where: this.file,
            cause: err,
          },
        );
      }
      for (const [name, s] of Object.entries(summary)) this.existing.set(name, s.documents);
    }
    return this.existing.get(ns) ?? 0;
  }

  async begin(namespaces: readonly RestoreNamespace[]): Promise<void> {
    if (this.out !== undefined) throw new Error('DumpArchiveTarget.begin called twice');
    for (const ns of namespaces) {
      const { db, collection } = dumpNamespaceName(ns.targetNs);
      if (this.namespaces.has(ns.targetNs))
        throw new DumpFormatError(`namespace ${ns.targetNs} is listed twice`);
      this.namespaces.set(ns.targetNs, { ns, db, collection, crc: new Crc64Ecma(), state: 'planned' });
    }
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    const fileStream = createWriteStream(this.partial, { highWaterMark: 1 << 20 });
    await Promise.race([once(fileStream, 'open'), once(fileStream, 'error')]);
    let out: Writable = fileStream;
    if (this.options.gzip === true) {
      const gzip = createGzip();
      gzip.pipe(fileStream);
      gzip.on('error', (err) => (this.streamError ??= err));
      out = gzip;
    }
    fileStream.on('error', (err) => (this.streamError ??= err));
    this.fileStream = fileStream;
    this.out = out;
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(ARCHIVE_MAGIC);
    const header = BSON.serialize({
      concurrent_collections: this.options.concurrentCollections ?? 4,
      version: ARCHIVE_FORMAT_VERSION,
      server_version: this.options.serverVersion ?? '7.0.0',
      tool_version: this.options.toolVersion ?? 'tidemark',
    });
    const prelude: Uint8Array[] = [magic, header];
    for (const entry of this.namespaces.values()) {
      const uuid = this.options.collectionUuid?.(entry.ns) ?? newCollectionUuid();
      prelude.push(
        BSON.serialize({
          db: entry.db,
          collection: entry.collection,
          metadata: metadataJson(entry.ns, entry.collection, uuid),
          size: bsonInt(entry.ns.logicalBytes),
          type: COLLECTION_TYPE,
        }),
      );
    }
    prelude.push(TERMINATOR_BYTES);
    await this.lock.run('archive', () => this.write(prelude));
  }

  async prepare(ns: RestoreNamespace, options: { readonly drop: boolean }): Promise<void> {
    const entry = this.entry(ns, 'prepare');
    if (entry.state !== 'planned')
      throw new Error(`DumpArchiveTarget.prepare: ${ns.targetNs} prepared twice`);
    if (!options.drop && (await this.existingDocuments(ns.targetNs)) > 0) {
      throw new DumpFormatError(
        `the archive already there holds documents of ${ns.targetNs}; restore with --drop to replace the archive`,
        { where: this.file },
      );
    }
    entry.state = 'prepared';
  }

  async insert(ns: RestoreNamespace, docs: readonly Uint8Array[]): Promise<void> {
    const entry = this.entry(ns, 'insert');
    for (const doc of docs) checkDocumentFraming(doc, `insert into ${ns.targetNs}`);
    if (docs.length === 0) return;
    await this.lock.run('archive', async () => {
      if (entry.state !== 'prepared')
        throw new Error(`DumpArchiveTarget.insert: ${ns.targetNs} is ${entry.state}`);
      const chunks: Uint8Array[] = [];
      if (this.current !== ns.targetNs) {
        if (this.current !== undefined) chunks.push(TERMINATOR_BYTES);
        chunks.push(namespaceHeader(entry, false, 0n));
        this.current = ns.targetNs;
      }
      for (const doc of docs) {
        entry.crc.update(doc);
        chunks.push(doc);
      }
      await this.write(chunks);
    });
  }

  async finish(ns: RestoreNamespace): Promise<void> {
    const entry = this.entry(ns, 'finish');
    await this.lock.run('archive', async () => {
      if (entry.state !== 'prepared')
        throw new Error(`DumpArchiveTarget.finish: ${ns.targetNs} is ${entry.state}`);
      const chunks: Uint8Array[] = [];
      if (this.current !== undefined) chunks.push(TERMINATOR_BYTES);
      chunks.push(namespaceHeader(entry, true, entry.crc.digest()), TERMINATOR_BYTES);
      this.current = undefined;
      await this.write(chunks);
      entry.state = 'finished';
    });
  }

  async end(): Promise<void> {
    await this.lock.run('archive', async () => {
      if (this.ended) throw new Error('DumpArchiveTarget.end called twice');
      const unfinished = [...this.namespaces.values()].filter((e) => e.state !== 'finished');
      if (unfinished.length > 0) {
        throw new DumpFormatError(
          `the archive cannot end: ${unfinished.map((e) => e.ns.targetNs).join(', ')} not finished`,
          { where: this.file },
        );
      }
      const { out, fileStream } = this;
      if (out === undefined || fileStream === undefined)
        throw new Error('DumpArchiveTarget.end before begin');
      // With gzip, the file stream ends once the gzip stream has flushed into it; it closes its descriptor after.
      const closed = Promise.race([once(fileStream, 'close'), once(fileStream, 'error')]);
      out.end();
      await closed;
      if (this.streamError !== undefined) throw this.streamError;
      // fsync through a descriptor of our own: it flushes the file's data whoever wrote it.
      const handle = await fsp.open(this.partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(this.partial, this.file);
      await fsyncDir(path.dirname(this.file));
      this.ended = true;
    });
  }

  private entry(ns: RestoreNamespace, call: string): ArchiveNamespace {
    const entry = this.namespaces.get(ns.targetNs);
    if (entry === undefined)
      throw new Error(`DumpArchiveTarget.${call}: ${ns.targetNs} was not announced in begin`);
    return entry;
  }

  /** Writes chunks to the stream in order, waiting when it is full. */
  private async write(chunks: readonly Uint8Array[]): Promise<void> {
    const out = this.out;
    if (out === undefined) throw new Error('DumpArchiveTarget: write before begin');
    for (const chunk of chunks) {
      if (this.streamError !== undefined) throw this.streamError;
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
    }
    if (this.streamError !== undefined) throw this.streamError;
  }
}

/** A namespace (or EOF) header: `{db, collection, EOF, CRC}`, CRC an int64 holding the unsigned CRC's bits. */
function namespaceHeader(entry: ArchiveNamespace, eof: boolean, crc: bigint): Uint8Array {
  return BSON.serialize({
    db: entry.db,
    collection: entry.collection,
    EOF: eof,
    CRC: Long.fromBigInt(BigInt.asIntN(64, crc)),
  });
}

/** A size as mongodump's Go `int` marshals it: int32 when it fits, else int64. */
function bsonInt(n: number): number | Long {
  if (!Number.isSafeInteger(n) || n < 0) throw new DumpFormatError(`size ${n} is not a byte count`);
  return n <= 0x7fffffff ? n : Long.fromNumber(n);
}
