/**
 * `DumpDirectoryTarget`: a restore written as a mongodump directory (`--dump DIR`), which `mongorestore DIR` reads:
 * `DIR/<db>/<escaped coll>.bson` (the documents' raw BSON, concatenated, exactly as given) and
 * `DIR/<db>/<escaped coll>.metadata.json` (options, indexes, UUID, name, type), plus Tidemark's record of the dump,
 * `DIR/tidemark-dump.json`. Layout: docs/format.md, "Restore dumps".
 *
 * Durability: each file is written under `<name>.partial`, fsynced, renamed, and its directory fsynced, so a crash
 * never leaves a torn `.bson` or `.metadata.json` (mongorestore ignores `.partial` files). A namespace's files get
 * their names in `finish`; the record says `complete` only after `end`, so a dump cut short by a crash is told
 * from a whole one. One writer per directory: two restores into the same DIR at once are not supported.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { KeyedMutex, fsyncDir, Sha256, writeFileDurably } from '@tidemark/util';
import {
  BSON_SUFFIX,
  DUMP_RECORD_FILE,
  DumpFormatError,
  METADATA_SUFFIX,
  partialPath,
  checkDocumentFraming,
  collectionFileBase,
  dumpNamespaceName,
  metadataJson,
  newCollectionUuid,
  readUint32LE,
  MIN_BSON_SIZE,
  MAX_BSON_SIZE,
} from './dump-format';
import type { RestoreNamespace, RestoreTarget } from './ports';

/** Where one namespace's files live. */
interface NamespaceFiles {
  readonly db: string;
  readonly collection: string;
  readonly dbDir: string;
  readonly bson: string;
  readonly metadata: string;
}

/** A namespace being written: its open `.bson.partial` and what went into it. */
interface OpenNamespace {
  readonly files: NamespaceFiles;
  readonly handle: fsp.FileHandle;
  readonly hash: Sha256;
  documents: number;
  finished: boolean;
}

export interface DumpDirectoryTargetOptions {
  /** The collection UUID written in a namespace's metadata (default: a fresh random one per collection). */
  readonly collectionUuid?: (ns: RestoreNamespace) => string;
}

export class DumpDirectoryTarget implements RestoreTarget {
  private readonly root: string;
  private readonly lock = new KeyedMutex();
  private readonly open = new Map<string, OpenNamespace>();
  private readonly written = new Map<string, RecordEntry>();
  private planned: readonly RestoreNamespace[] | undefined;

  constructor(
    dir: string,
    private readonly options: DumpDirectoryTargetOptions = {},
  ) {
    this.root = path.resolve(dir);
  }

  /** The files of `ns` under DIR; refuses names that are not MongoDB's or would leave DIR. */
  filesOf(ns: string): NamespaceFiles {
    const { db, collection } = dumpNamespaceName(ns);
    const dbDir = path.join(this.root, db);
    // The suffix goes on before joining: a collection named ".." must give "...bson", not "<DIR>.bson".
    const base = collectionFileBase(collection);
    const files = {
      db,
      collection,
      dbDir,
      bson: path.join(dbDir, base + BSON_SUFFIX),
      metadata: path.join(dbDir, base + METADATA_SUFFIX),
    };
    // Belt and braces: the checks above already keep every name inside DIR.
    for (const file of [files.bson, files.metadata]) {
      if (path.dirname(file) !== dbDir || path.dirname(dbDir) !== this.root) {
        throw new DumpFormatError(`namespace ${JSON.stringify(ns)} would be written outside ${this.root}`);
      }
    }
    return files;
  }

  async existingDocuments(ns: string): Promise<number> {
    const { bson } = this.filesOf(ns);
    return countDocumentsInFile(bson);
  }

  async begin(namespaces: readonly RestoreNamespace[]): Promise<void> {
    if (this.planned !== undefined) throw new Error('DumpDirectoryTarget.begin called twice');
    const seen = new Map<string, string>();
    for (const ns of namespaces) {
      const files = this.filesOf(ns.targetNs);
      const other = seen.get(files.bson);
      if (other !== undefined) {
        throw new DumpFormatError(
          `namespaces ${other} and ${ns.targetNs} would be written to the same file ${files.bson}`,
        );
      }
      seen.set(files.bson, ns.targetNs);
    }
    this.planned = namespaces;
    await fsp.mkdir(this.root, { recursive: true });
    // A complete dump already in DIR keeps its other namespaces: their record entries carry over to this one's.
    const planned = new Set(namespaces.map((n) => n.targetNs));
    for (const [ns, entry] of Object.entries(await readCompleteRecord(this.root))) {
      if (!planned.has(ns)) this.written.set(ns, entry);
    }
    await writeFileDurably(
      path.join(this.root, DUMP_RECORD_FILE),
      Buffer.from(`${JSON.stringify({ state: 'writing', namespaces: namespaces.map((n) => n.targetNs) })}\n`),
    );
  }

  async prepare(ns: RestoreNamespace, options: { readonly drop: boolean }): Promise<void> {
    const key = this.planned?.find((n) => n.targetNs === ns.targetNs)?.targetNs;
    if (key === undefined)
      throw new Error(`DumpDirectoryTarget.prepare: ${ns.targetNs} was not announced in begin`);
    await this.lock.run(key, async () => {
      if (this.open.has(key)) throw new Error(`DumpDirectoryTarget.prepare: ${key} prepared twice`);
      const files = this.filesOf(key);
      if (options.drop) {
        await fsp.rm(files.bson, { force: true });
        await fsp.rm(files.metadata, { force: true });
      } else {
        const existing = await countDocumentsInFile(files.bson);
        if (existing > 0) {
          throw new DumpFormatError(
            `${files.bson} already holds ${existing} documents; restore with --drop to replace them`,
          );
        }
      }
      await fsp.mkdir(files.dbDir, { recursive: true });
      // A `.partial` left by a crashed write is truncated: its content never counted.
      const handle = await fsp.open(partialPath(files.bson), 'w');
      this.open.set(key, { files, handle, hash: new Sha256(), documents: 0, finished: false });
      await fsyncDir(files.dbDir);
      await fsyncDir(this.root);
    });
  }

  async insert(ns: RestoreNamespace, docs: readonly Uint8Array[]): Promise<void> {
    const where = `insert into ${ns.targetNs}`;
    for (const doc of docs) checkDocumentFraming(doc, where);
    await this.lock.run(ns.targetNs, async () => {
      const state = this.openNamespace(ns, 'insert');
      let offset = 0;
      const total = docs.reduce((sum, d) => sum + d.byteLength, 0);
      // writev may write less than asked; go on from where it stopped.
      let pending = docs.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      while (offset < total) {
        const { bytesWritten } = await state.handle.writev(pending);
        offset += bytesWritten;
        pending = skipBytes(pending, bytesWritten);
      }
      for (const doc of docs) state.hash.update(doc);
      state.documents += docs.length;
    });
  }

  async finish(ns: RestoreNamespace): Promise<void> {
    await this.lock.run(ns.targetNs, async () => {
      const state = this.openNamespace(ns, 'finish');
      const { files } = state;
      await state.handle.sync();
      await state.handle.close();
      const uuid = this.options.collectionUuid?.(ns) ?? newCollectionUuid();
      const json = metadataJson(ns, files.collection, uuid);
      await fsp.rename(partialPath(files.bson), files.bson);
      await writeFileDurably(files.metadata, Buffer.from(json, 'utf8'), partialPath(files.metadata));
      state.finished = true;
      this.written.set(ns.targetNs, {
        documents: state.documents,
        bytes: state.hash.byteLength,
        sha256: state.hash.digestHex(),
      });
    });
  }

  async end(): Promise<void> {
    const planned = this.planned ?? [];
    const unfinished = planned.filter((n) => !this.written.has(n.targetNs)).map((n) => n.targetNs);
    if (unfinished.length > 0) {
      throw new DumpFormatError(`the dump cannot end: ${unfinished.join(', ')} not finished`, {
        where: this.root,
      });
    }
    await writeFileDurably(
      path.join(this.root, DUMP_RECORD_FILE),
      Buffer.from(
        `${JSON.stringify({ state: 'complete', namespaces: Object.fromEntries(this.written) }, null, 2)}\n`,
      ),
    );
  }

  private openNamespace(ns: RestoreNamespace, call: string): OpenNamespace {
    const state = this.open.get(ns.targetNs);
    if (state === undefined) throw new Error(`DumpDirectoryTarget.${call}: ${ns.targetNs} was not prepared`);
    if (state.finished) throw new Error(`DumpDirectoryTarget.${call}: ${ns.targetNs} is already finished`);
    return state;
  }
}

type RecordEntry = { documents: number; bytes: number; sha256: string };

/** The namespaces of a complete dump record in `dir`; none when there is no record or it is not complete. */
async function readCompleteRecord(dir: string): Promise<Record<string, RecordEntry>> {
  let record: unknown;
  try {
    record = JSON.parse(await fsp.readFile(path.join(dir, DUMP_RECORD_FILE), 'utf8'));
  } catch {
    return {};
  }
  const r = record as { state?: unknown; namespaces?: unknown } | null;
  if (r?.state !== 'complete' || typeof r.namespaces !== 'object' || r.namespaces === null) return {};
  return r.namespaces as Record<string, RecordEntry>;
}

/** The buffers after the first `n` bytes. */
function skipBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/**
 * The documents in a `.bson` file, counted by walking the length prefixes (each checked: 5 bytes to 16 MiB, ending
 * in a zero byte, inside the file); 0 when the file does not exist. A file that does not end exactly after its last
 * document is a {@link DumpFormatError}.
 */
export async function countDocumentsInFile(file: string): Promise<number> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(4);
    const last = Buffer.alloc(1);
    let at = 0;
    let count = 0;
    while (at < size) {
      if (size - at < 4)
        throw new DumpFormatError(`truncated document length at byte ${at}`, { where: file });
      await handle.read(head, 0, 4, at);
      const length = readUint32LE(head);
      if (length < MIN_BSON_SIZE || length > MAX_BSON_SIZE) {
        throw new DumpFormatError(`${length} at byte ${at} is not a BSON document length`, { where: file });
      }
      if (at + length > size) {
        throw new DumpFormatError(
          `the document at byte ${at} (${length} bytes) runs past the end of the file`,
          {
            where: file,
          },
        );
      }
      await handle.read(last, 0, 1, at + length - 1);
      if (last[0] !== 0) {
        throw new DumpFormatError(`the document at byte ${at} does not end with a zero byte`, {
          where: file,
        });
      }
      at += length;
      count++;
    }
    return count;
  } finally {
    await handle.close();
  }
}
