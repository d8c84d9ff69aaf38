/**
 * The layout of the dumps a restore writes with `--dump DIR` and `--archive FILE`: mongodump's directory layout and
 * its archive format (mongo-tools 100.x, archive format version "0.1"), declared once here for the two writers and
 * Tidemark's reader. docs/format.md, "Restore dumps", describes it byte by byte.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { EJSON, type Document } from 'bson';
import { TidemarkError, namespaceNameProblems, parseNamespace } from '@tidemark/domain';
import type { RestoreNamespace } from './ports';

/** The archive's first four bytes, little-endian (0x8199e26d: bytes 6d e2 99 81). */
export const ARCHIVE_MAGIC = 0x8199e26d;
/** The archive format version in the archive header; mongorestore 100.x knows only this one. */
export const ARCHIVE_FORMAT_VERSION = '0.1';
/** Ends the prelude and every block of an archive, where a BSON length would otherwise be. */
export const ARCHIVE_TERMINATOR = 0xffffffff;
/** The largest BSON document mongo-tools reads (its `db.MaxBSONSize`), and the largest a dump may hold. */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;
/** The smallest BSON document: the length and the terminating zero. */
export const MIN_BSON_SIZE = 5;
/** What a collection's data file is called after its escaped name, and its metadata file. */
export const BSON_SUFFIX = '.bson';
export const METADATA_SUFFIX = '.metadata.json';
/** Suffix of a file being written; it gets its final name (without the suffix) only once it is whole and synced. */
export const PARTIAL_SUFFIX = '.partial';
/** The longest file name (in bytes) most filesystems take. */
const MAX_FILE_NAME = 255;

/**
 * The name a file is written under before it gets its final one: `<name>.partial`, or when that is longer than a
 * file name may be (a truncated 238-byte collection name plus `.metadata.json.partial`), the name cut short,
 * `~`, 16 hex digits of its SHA-256, and `.partial`. Never ends in `.bson` or `.metadata.json`, so mongorestore
 * never takes it for a collection.
 */
export function partialPath(file: string): string {
  const dir = path.dirname(file);
  const name = path.basename(file);
  if (Buffer.byteLength(name + PARTIAL_SUFFIX) <= MAX_FILE_NAME) return path.join(dir, name + PARTIAL_SUFFIX);
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  const keep = Buffer.from(name)
    .subarray(0, 200)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return path.join(dir, `${keep}~${hash}${PARTIAL_SUFFIX}`);
}

/**
 * Tidemark's record of a directory dump, at the top of DIR: `{"state":"writing"}` from `begin`, and once every
 * namespace is written `{"state":"complete","namespaces":{...}}`. mongorestore ignores it (a top-level file that is
 * neither a directory nor `oplog.bson`); Tidemark's reader refuses a dump whose record is not complete.
 */
export const DUMP_RECORD_FILE = 'tidemark-dump.json';
/** The collection type mongodump writes (`listCollections`' `type`) for a collection; the only kind restored. */
export const COLLECTION_TYPE = 'collection';

/** A dump that does not follow the layout: a framing error, a bad name, a torn or incomplete file. Not retriable. */
export class DumpFormatError extends TidemarkError {
  override readonly name: string = 'DumpFormatError';
  /** The file (and where in it) the problem is, when known. */
  readonly where: string | undefined;

  constructor(message: string, details: { where?: string; cause?: unknown } = {}) {
    super(details.where === undefined ? message : `${details.where}: ${message}`, {
      retriable: false,
      cause: details.cause,
    });
    this.where = details.where;
  }
}

/** A namespace split for a dump: database and collection, both checked by MongoDB's naming rules. */
export interface DumpNamespaceName {
  readonly db: string;
  readonly collection: string;
}

/**
 * Splits a restore's target namespace `db.coll` and checks both names, so neither can leave the dump directory:
 * the database name becomes a directory as it is, so it must be a valid MongoDB database name (no `/`, `\`, `.`,
 * NUL, ...: so no `..` and no absolute path); the collection name is escaped ({@link collectionFileBase}).
 */
export function dumpNamespaceName(ns: string): DumpNamespaceName {
  const { db, collection } = parseNamespace(ns);
  const problems = namespaceNameProblems(`namespace ${JSON.stringify(ns)}`, db, collection ?? '');
  if (db === '.' || db === '..') problems.push(`namespace ${JSON.stringify(ns)}: database name is "${db}"`);
  if (Buffer.byteLength(db) >= 64) {
    problems.push(`namespace ${JSON.stringify(ns)}: database name is 64 bytes or longer (MongoDB's limit)`);
  }
  if (problems.length > 0) throw new DumpFormatError(`cannot be written to a dump: ${problems.join('; ')}`);
  return { db, collection: collection! };
}

/** Characters Go's `url.QueryEscape` leaves as they are. */
const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Go's `url.QueryEscape`: UTF-8 bytes, unreserved kept, space as `+`, the rest `%XX` in upper-case hex. */
export function queryEscape(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's `url.QueryUnescape`: the inverse of {@link queryEscape}; a malformed escape is a {@link DumpFormatError}. */
export function queryUnescape(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped[i]!;
    if (ch === '%') {
      const hex = escaped.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw new DumpFormatError(`bad escape in file name ${JSON.stringify(escaped)}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Longest escaped collection name mongodump uses whole in a file name (255 bytes less `.metadata.json.gz`). */
const MAX_ESCAPED_NAME = 238;
/** How much of a longer escaped name it keeps before `%24` and the name's hash. */
const TRUNCATED_NAME = 208;

/**
 * The file name of a collection's files without the suffix, as mongodump makes it: the collection name escaped with
 * Go's `url.QueryEscape` (so `/` is `%2F` and a name cannot leave its database's directory); an escaped name longer
 * than 238 bytes is cut to 208 and followed by `%24` and the unpadded base64url SHA-1 of the name (the full name is
 * then read from the metadata file's `collectionName`).
 */
export function collectionFileBase(collection: string): string {
  const escaped = queryEscape(collection);
  if (escaped.length <= MAX_ESCAPED_NAME) return escaped;
  const hash = createHash('sha1').update(collection, 'utf8').digest('base64url');
  return `${escaped.slice(0, TRUNCATED_NAME)}%24${hash}`;
}

/** Whether a file base was cut by {@link collectionFileBase} (its name must come from the metadata file). */
export function isTruncatedFileBase(base: string): boolean {
  return base.length === MAX_ESCAPED_NAME && base.includes('%24');
}

/**
 * A collection's metadata as mongodump writes it (`.metadata.json`, and the `metadata` string of an archive's
 * prelude): `options`, `indexes`, `uuid` (32 hex digits), `collectionName`, `type`, in that order, as canonical
 * Extended JSON v2 on one line, no trailing newline.
 */
export interface DumpMetadata {
  readonly options: Document;
  readonly indexes: readonly Document[];
  readonly uuid: string | undefined;
  readonly collectionName: string | undefined;
  readonly type: string | undefined;
}

/** A fresh collection UUID as mongodump writes one: 32 lower-case hex digits (the snapshot keeps no source UUID). */
export function newCollectionUuid(): string {
  return randomUUID().replace(/-/g, '');
}

/** The metadata JSON of a namespace (canonical Extended JSON v2, keys in mongodump's order). */
export function metadataJson(ns: RestoreNamespace, collection: string, uuid: string): string {
  if (!/^[0-9a-f]{32}$/.test(uuid))
    throw new DumpFormatError(`collection UUID ${JSON.stringify(uuid)} is not 32 hex digits`);
  const { uuid: _dropped, ...options } = ns.options as Record<string, unknown>;
  const doc = {
    options,
    indexes: ns.indexes.map((index) => ({ ...index })),
    uuid,
    collectionName: collection,
    type: COLLECTION_TYPE,
  };
  return EJSON.stringify(doc, { relaxed: false });
}

/** Parses a metadata JSON (mongodump's or ours) and checks its fields' types. */
export function parseMetadataJson(text: string, where: string): DumpMetadata {
  let doc: unknown;
  try {
    doc = EJSON.parse(text, { relaxed: false });
  } catch (err) {
    throw new DumpFormatError(`metadata is not Extended JSON`, { where, cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new DumpFormatError('metadata is not a JSON object', { where });
  }
  const m = doc as Record<string, unknown>;
  const options = m['options'] ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DumpFormatError('metadata "options" is not an object', { where });
  }
  const indexes = m['indexes'];
  if (
    !Array.isArray(indexes) ||
    indexes.some((i) => typeof i !== 'object' || i === null || Array.isArray(i))
  ) {
    throw new DumpFormatError('metadata "indexes" is not an array of objects', { where });
  }
  for (const key of ['uuid', 'collectionName', 'type'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'string') {
      throw new DumpFormatError(`metadata "${key}" is not a string`, { where });
    }
  }
  return {
    options: options as Document,
    indexes: indexes as Document[],
    uuid: m['uuid'] as string | undefined,
    collectionName: m['collectionName'] as string | undefined,
    type: m['type'] as string | undefined,
  };
}

/**
 * Checks one document's framing before it is written: its int32 length equals its byte count, it is 5 bytes to
 * {@link MAX_BSON_SIZE}, and it ends with the zero byte. The bytes are written exactly as given.
 */
export function checkDocumentFraming(doc: Uint8Array, where: string): void {
  if (doc.byteLength < MIN_BSON_SIZE) {
    throw new DumpFormatError(`a document of ${doc.byteLength} bytes is shorter than any BSON document`, {
      where,
    });
  }
  const length = Buffer.from(doc.buffer, doc.byteOffset, doc.byteLength).readInt32LE(0);
  if (length !== doc.byteLength) {
    throw new DumpFormatError(`a document's BSON length ${length} is not its ${doc.byteLength} bytes`, {
      where,
    });
  }
  if (length > MAX_BSON_SIZE) {
    throw new DumpFormatError(
      `a document of ${length} bytes is larger than ${MAX_BSON_SIZE} (mongorestore's limit)`,
      {
        where,
      },
    );
  }
  if (doc[length - 1] !== 0) throw new DumpFormatError('a document does not end with a zero byte', { where });
}

/** Reads a BSON length (or the archive terminator) at the start of 4 bytes. */
export function readUint32LE(bytes: Uint8Array, at = 0): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}
