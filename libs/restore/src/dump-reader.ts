/**
 * Tidemark's reader of the dumps `--dump` and `--archive` write (and of mongodump's, in the same layouts): yields
 * per namespace its metadata, then its documents as raw BSON, checking the framing of everything as it goes: every
 * length (5 bytes to 16 MiB, inside the file), every document's terminating zero, every document decoded as BSON,
 * the archive's magic number, format version, blocks, terminators and per-namespace CRC, and the dump record of a
 * directory (complete, with the same counts and SHA-256). Anything else is a {@link DumpFormatError}. Streams: memory
 * holds one document at a time, whatever the dump's size.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { BSON, EJSON, type Document } from 'bson';
import { Sha256 } from '@tidemark/util';
import { Crc64Ecma } from './crc64';
import {
  ARCHIVE_FORMAT_VERSION,
  ARCHIVE_MAGIC,
  ARCHIVE_TERMINATOR,
  BSON_SUFFIX,
  DUMP_RECORD_FILE,
  DumpFormatError,
  MAX_BSON_SIZE,
  METADATA_SUFFIX,
  MIN_BSON_SIZE,
  PARTIAL_SUFFIX,
  isTruncatedFileBase,
  parseMetadataJson,
  queryUnescape,
  readUint32LE,
  type DumpMetadata,
} from './dump-format';

/** What a dump holds, in the order it is read. */
export type DumpEntry =
  | {
      readonly kind: 'namespace';
      readonly ns: string;
      readonly db: string;
      readonly collection: string;
      /** undefined when a directory dump has a `.bson` file without its `.metadata.json`. */
      readonly metadata: DumpMetadata | undefined;
    }
  | { readonly kind: 'document'; readonly ns: string; readonly document: Uint8Array }
  | { readonly kind: 'end'; readonly ns: string; readonly documents: number };

/** Reads a dump: a directory (`--dump`), or an archive file (`--archive`), gzip or not (told by its first bytes). */
export async function* readDump(location: string): AsyncGenerator<DumpEntry> {
  const stat = await fsp.stat(location);
  if (stat.isDirectory()) yield* readDumpDirectory(location);
  else yield* readDumpArchive(location);
}

/** Per namespace: what a dump holds, for comparing dumps and checking one against its source. */
export interface DumpNamespaceSummary {
  readonly documents: number;
  readonly bytes: number;
  /** SHA-256 of the namespace's documents' raw bytes concatenated in dump order. */
  readonly sha256: string;
  /** The index names, in the metadata's order. */
  readonly indexes: readonly string[];
  /** The collection options as canonical Extended JSON v2 (as the Python checker prints them). */
  readonly options: Document;
  readonly uuid: string | undefined;
}

/** Reads a whole dump ({@link readDump}) and sums it up per namespace. */
export async function summarizeDump(location: string): Promise<Record<string, DumpNamespaceSummary>> {
  const acc = new Map<string, { documents: number; hash: Sha256; metadata: DumpMetadata | undefined }>();
  const out: Record<string, DumpNamespaceSummary> = {};
  for await (const entry of readDump(location)) {
    if (entry.kind === 'namespace') {
      acc.set(entry.ns, { documents: 0, hash: new Sha256(), metadata: entry.metadata });
    } else if (entry.kind === 'document') {
      const a = acc.get(entry.ns)!;
      a.documents++;
      a.hash.update(entry.document);
    } else {
      const a = acc.get(entry.ns)!;
      out[entry.ns] = {
        documents: a.documents,
        bytes: a.hash.byteLength,
        sha256: a.hash.digestHex(),
        indexes: (a.metadata?.indexes ?? []).map((i) => String(i['name'])),
        options: EJSON.serialize(a.metadata?.options ?? {}, { relaxed: false }),
        uuid: a.metadata?.uuid,
      };
    }
  }
  return out;
}

// ---- directory dumps ------------------------------------------------------------------------------------------

/** The dump record Tidemark writes at the top of a directory dump. */
interface DumpRecord {
  readonly state: string;
  readonly namespaces?: Record<string, { documents: number; bytes: number; sha256: string }>;
}

/**
 * Reads a directory dump: each database directory in name order, in it each collection's `.bson` file (in name
 * order) with its `.metadata.json`. When `tidemark-dump.json` is there (Tidemark wrote the dump) it must say
 * `complete`, and the namespaces it lists must be exactly those read, with the same counts and hashes; without it
 * (a mongodump dump), a `.partial` file means an interrupted write and is refused.
 */
export async function* readDumpDirectory(dir: string): AsyncGenerator<DumpEntry> {
  const record = await readDumpRecord(dir);
  const seen = new Map<string, { documents: number; bytes: number; sha256: string }>();
  const dbs = (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const db of dbs.sort()) {
    const dbDir = path.join(dir, db);
    const names = (await fsp.readdir(dbDir)).sort();
    const bases = new Set<string>();
    for (const name of names) {
      if (name.endsWith(PARTIAL_SUFFIX)) {
        if (record === undefined) {
          throw new DumpFormatError(`an interrupted write left ${name}; the dump is not whole`, {
            where: dbDir,
          });
        }
        continue; // a leftover of an earlier, interrupted run: the complete record says what this dump holds
      }
      if (name.endsWith('.gz')) {
        throw new DumpFormatError(`${name}: gzip directory dumps are not read (Tidemark writes none)`, {
          where: dbDir,
        });
      }
      if (name.endsWith(METADATA_SUFFIX)) bases.add(name.slice(0, -METADATA_SUFFIX.length));
      else if (name.endsWith(BSON_SUFFIX)) bases.add(name.slice(0, -BSON_SUFFIX.length));
    }
    for (const base of [...bases].sort()) {
      const metadataFile = path.join(dbDir, base + METADATA_SUFFIX);
      const bsonFile = path.join(dbDir, base + BSON_SUFFIX);
      const metadata = await readMetadataFile(metadataFile);
      let collection: string;
      if (isTruncatedFileBase(base)) {
        if (metadata?.collectionName === undefined) {
          throw new DumpFormatError(`a truncated file name needs the metadata's collectionName`, {
            where: bsonFile,
          });
        }
        collection = metadata.collectionName;
      } else {
        collection = queryUnescape(base);
        if (metadata?.collectionName !== undefined && metadata.collectionName !== collection) {
          throw new DumpFormatError(
            `the metadata names collection ${JSON.stringify(metadata.collectionName)}, the file ${JSON.stringify(collection)}`,
            { where: metadataFile },
          );
        }
      }
      const ns = `${db}.${collection}`;
      yield { kind: 'namespace', ns, db, collection, metadata };
      let documents = 0;
      const hash = new Sha256();
      if (await exists(bsonFile)) {
        const reader = new ByteReader(createReadStream(bsonFile, { highWaterMark: 1 << 20 }), bsonFile);
        for (;;) {
          const doc = await reader.document(false);
          if (doc === 'end') break;
          if (doc === 'terminator') throw reader.error('0xFFFFFFFF is not a BSON document length');
          documents++;
          hash.update(doc);
          yield { kind: 'document', ns, document: doc };
        }
      }
      seen.set(ns, { documents, bytes: hash.byteLength, sha256: hash.digestHex() });
      yield { kind: 'end', ns, documents };
    }
  }
  if (record !== undefined) checkAgainstRecord(dir, record, seen);
}

async function readDumpRecord(dir: string): Promise<DumpRecord | undefined> {
  const file = path.join(dir, DUMP_RECORD_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    throw new DumpFormatError('the dump record is not JSON', { where: file, cause: err });
  }
  const state = (record as { state?: unknown } | null)?.state;
  if (state !== 'complete') {
    throw new DumpFormatError(
      `the dump is not complete (state ${JSON.stringify(state)}): its write was interrupted; restore again with --drop`,
      { where: file },
    );
  }
  const namespaces = (record as DumpRecord).namespaces;
  if (typeof namespaces !== 'object' || namespaces === null) {
    throw new DumpFormatError('the dump record lists no namespaces', { where: file });
  }
  return record as DumpRecord;
}

function checkAgainstRecord(
  dir: string,
  record: DumpRecord,
  seen: Map<string, { documents: number; bytes: number; sha256: string }>,
): void {
  const where = path.join(dir, DUMP_RECORD_FILE);
  const listed = record.namespaces ?? {};
  for (const [ns, want] of Object.entries(listed)) {
    const got = seen.get(ns);
    if (got === undefined) throw new DumpFormatError(`${ns} is listed but its files are missing`, { where });
    if (got.documents !== want.documents || got.bytes !== want.bytes || got.sha256 !== want.sha256) {
      throw new DumpFormatError(
        `${ns} holds ${got.documents} documents (${got.bytes} bytes, sha256 ${got.sha256}) but the record says ` +
          `${want.documents} (${want.bytes} bytes, sha256 ${want.sha256})`,
        { where },
      );
    }
  }
  for (const ns of seen.keys()) {
    if (!(ns in listed))
      throw new DumpFormatError(`${ns} is in the directory but not in the record`, { where });
  }
}

async function readMetadataFile(file: string): Promise<DumpMetadata | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseMetadataJson(text, file);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

// ---- archives -------------------------------------------------------------------------------------------------

/**
 * Reads an archive: the prelude's namespaces first (in prelude order, with their metadata), then the documents as
 * their blocks come, and each namespace's end at its EOF block, whose CRC must match its documents.
 */
export async function* readDumpArchive(file: string): AsyncGenerator<DumpEntry> {
  const reader = new ByteReader(await openMaybeGzip(file), file);
  const magic = await reader.bytes(4, 'the magic number');
  if (readUint32LE(magic) !== ARCHIVE_MAGIC) {
    throw reader.error('not a mongodump archive (wrong magic number)', 0);
  }
  const header = await reader.document(true);
  if (header === 'end' || header === 'terminator') throw reader.error('the archive header is missing');
  const version = decode(header, reader, 'archive header')['version'];
  if (version !== ARCHIVE_FORMAT_VERSION) {
    throw reader.error(`archive format version ${JSON.stringify(version)} is not ${ARCHIVE_FORMAT_VERSION}`);
  }
  const states = new Map<string, { documents: number; crc: Crc64Ecma; closed: boolean }>();
  for (;;) {
    const doc = await reader.document(true);
    if (doc === 'terminator') break;
    if (doc === 'end') throw reader.error('the archive ends inside its prelude');
    const cm = decode(doc, reader, 'collection metadata');
    const db = cm['db'];
    const collection = cm['collection'];
    const metadataText = cm['metadata'];
    if (typeof db !== 'string' || typeof collection !== 'string' || collection === '') {
      throw reader.error('a prelude entry lacks its db or collection');
    }
    if (metadataText !== undefined && typeof metadataText !== 'string') {
      throw reader.error(`the metadata of ${db}.${collection} is not a string`);
    }
    const ns = `${db}.${collection}`;
    if (states.has(ns)) throw reader.error(`${ns} is in the prelude twice`);
    states.set(ns, { documents: 0, crc: new Crc64Ecma(), closed: false });
    const metadata = metadataText ? parseMetadataJson(metadataText, `${file}: prelude of ${ns}`) : undefined;
    yield { kind: 'namespace', ns, db, collection, metadata };
  }
  for (;;) {
    const head = await reader.document(true);
    if (head === 'end') break;
    if (head === 'terminator') throw reader.error('a terminator where a namespace header belongs');
    const h = decode(head, reader, 'namespace header');
    const ns = `${String(h['db'])}.${String(h['collection'])}`;
    const eof = h['EOF'];
    if (typeof h['db'] !== 'string' || typeof h['collection'] !== 'string' || typeof eof !== 'boolean') {
      throw reader.error('a namespace header lacks db, collection or EOF');
    }
    const state = states.get(ns);
    if (state === undefined) throw reader.error(`a block of ${ns}, which the prelude does not list`);
    if (state.closed) throw reader.error(`a block of ${ns} after its end`);
    if (eof) {
      const crc = h['CRC'];
      if (typeof crc !== 'bigint') throw reader.error(`the end of ${ns} has no int64 CRC`);
      const want = BigInt.asUintN(64, crc);
      const got = state.crc.digest();
      if (got !== want) {
        throw reader.error(`CRC mismatch for ${ns}: the documents give ${got}, the archive says ${want}`);
      }
      if ((await reader.document(true)) !== 'terminator')
        throw reader.error(`the end of ${ns} is not terminated`);
      state.closed = true;
      yield { kind: 'end', ns, documents: state.documents };
      continue;
    }
    for (;;) {
      const doc = await reader.document(true);
      if (doc === 'terminator') break;
      if (doc === 'end') throw reader.error(`the archive ends inside a block of ${ns}`);
      decode(doc, reader, `a document of ${ns}`);
      state.crc.update(doc);
      state.documents++;
      yield { kind: 'document', ns, document: doc };
    }
  }
  const open = [...states].filter(([, s]) => !s.closed).map(([ns]) => ns);
  if (open.length > 0) throw reader.error(`the archive ends before the end of ${open.join(', ')}`);
}

async function openMaybeGzip(file: string): Promise<AsyncIterable<Buffer>> {
  const fh = await fsp.open(file, 'r');
  const first = Buffer.alloc(2);
  let n: number;
  try {
    ({ bytesRead: n } = await fh.read(first, 0, 2, 0));
  } finally {
    await fh.close();
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  if (n === 2 && first[0] === 0x1f && first[1] === 0x8b) return stream.pipe(createGunzip());
  return stream;
}

function decode(doc: Buffer, reader: ByteReader, what: string): Document {
  try {
    return BSON.deserialize(doc, { useBigInt64: true, validation: { utf8: true } });
  } catch (err) {
    throw reader.error(`${what} does not decode as BSON (${(err as Error).message})`);
  }
}

/** Reads exact byte counts from a stream of chunks, keeping track of the offset for error messages. */
class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  /** Bytes consumed so far (in the decompressed stream, for a gzip archive). */
  offset = 0;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly where: string,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  error(message: string, at = this.offset): DumpFormatError {
    return new DumpFormatError(`${message} (at byte ${at})`, { where: this.where });
  }

  /**
   * The next BSON document (its framing checked; decoded too in an archive's documents by the caller), the
   * archive terminator when `terminatorAllowed`, or `'end'` at the clean end of the stream.
   */
  async document(terminatorAllowed: boolean): Promise<Buffer | 'terminator' | 'end'> {
    if (!(await this.fill(1))) return 'end';
    const at = this.offset;
    const head = await this.bytes(4, 'a document length');
    const length = readUint32LE(head);
    if (length === ARCHIVE_TERMINATOR && terminatorAllowed) return 'terminator';
    if (length < MIN_BSON_SIZE || length > MAX_BSON_SIZE) {
      throw this.error(`${length} is not a BSON document length`, at);
    }
    const rest = await this.bytes(length - 4, `a document of ${length} bytes`, at);
    const doc = Buffer.concat([head, rest], length);
    if (doc[length - 1] !== 0)
      throw this.error(`the document of ${length} bytes does not end with a zero byte`, at);
    if (!terminatorAllowed) {
      // A directory dump's documents: decoded here (an archive's are decoded by its reader).
      try {
        BSON.deserialize(doc, { useBigInt64: true, validation: { utf8: true } });
      } catch (err) {
        throw this.error(
          `the document of ${length} bytes does not decode as BSON (${(err as Error).message})`,
          at,
        );
      }
    }
    return doc;
  }

  async bytes(n: number, what: string, at = this.offset): Promise<Buffer> {
    if (!(await this.fill(n))) throw this.error(`truncated: ${what} runs past the end`, at);
    let out: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let o = 0;
      while (o < n) {
        const c = this.chunks[0]!;
        const take = Math.min(c.length, n - o);
        c.copy(out, o, 0, take);
        o += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      let r: IteratorResult<Buffer>;
      try {
        r = await this.it.next();
      } catch (err) {
        throw new DumpFormatError(`cannot be read: ${(err as Error).message}`, {
          where: this.where,
          cause: err,
        });
      }
      if (r.done) this.done = true;
      else {
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
    return this.buffered >= n;
  }
}
