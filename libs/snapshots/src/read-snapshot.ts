/**
 * Reading a snapshot back: a namespace's documents, as raw BSON, from a manifest and the store. Every block is
 * decoded and checked (`decodeBlock`: tag, length, address; a delta against its base), the documents' framing is checked across chunk
 * boundaries, and the namespace's document count and content hash are compared at the end. Used by restore and by
 * specs. Memory: the blocks read ahead (`DEFAULT_BLOCK_READ_AHEAD`, or two `getBlocks` batches of
 * `BLOCK_READ_BATCH`, with their bases) plus one document at a time.
 */
import { Sha256 } from '@tidemark/util';
import { decodeBlock, readBlockHeader, type DeltaBase, type EncryptionKey } from './block-codec';
import type { ChunkRef, NamespaceManifest, SnapshotManifest } from './manifest';
import { BlockDamagedError, EncryptionKeyError, SnapshotDamagedError } from './snapshot-errors';
import type { BlockRead, SnapshotStore } from './snapshot-store';

/** The largest document a snapshot holds: MongoDB's 16 MiB limit plus room for the head's own fields. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024;

/**
 * Checks that `key` is the key the manifest's blocks are encrypted under (by id), or that none is needed. Throws
 * {@link EncryptionKeyError} otherwise; returns the key to decode with.
 */
export function keyForManifest(manifest: SnapshotManifest, key?: EncryptionKey): EncryptionKey | undefined {
  if (manifest.encryption === undefined) return undefined;
  if (key === undefined) {
    throw new EncryptionKeyError(
      `snapshot ${manifest.snapshotId} is encrypted under key ${manifest.encryption.keyId}; no key was given`,
    );
  }
  if (key.keyId !== manifest.encryption.keyId) {
    throw new EncryptionKeyError(
      `snapshot ${manifest.snapshotId} is encrypted under key ${manifest.encryption.keyId}, not ${key.keyId}`,
    );
  }
  return key;
}

/**
 * One chunk's plain bytes, decoded and checked. A delta block is decoded against its base (read and checked first):
 * the manifest and the block's header must name the same base, and the base must be a full block. A missing or
 * damaged base is a {@link BlockMissingError} / {@link BlockDamagedError} naming the base, since that is the block
 * to look at.
 */
export async function readChunk(
  store: SnapshotStore,
  jobId: string,
  chunk: Pick<ChunkRef, 'address' | 'length' | 'base'>,
  key?: EncryptionKey,
  /** The chunk's block as a `getBlocks` read it (else it is read here). */
  read?: Promise<BlockRead>,
): Promise<Uint8Array> {
  const { address, length } = chunk;
  const bytes = read === undefined ? await store.getBlock(jobId, address) : blockBytes(await read);
  // Asked after the read: a store may only know where a block is once it looked it up (an s3 pack's range).
  const location = store.blockLocation(jobId, address);
  const context = { jobId, location };
  const headerBase = readBlockHeader(bytes, address, context).base;
  if (headerBase !== chunk.base) {
    throw new BlockDamagedError({
      address,
      jobId,
      location,
      reason:
        headerBase === undefined
          ? `a full block, but the manifest names base ${chunk.base}`
          : `a delta of ${headerBase}, but the manifest names ${chunk.base === undefined ? 'no base' : `base ${chunk.base}`}`,
    });
  }
  let base: DeltaBase | undefined;
  if (headerBase !== undefined) {
    const baseBytes = await store.getBlock(jobId, headerBase);
    const baseLocation = store.blockLocation(jobId, headerBase);
    const baseContext = { jobId, location: baseLocation };
    if (readBlockHeader(baseBytes, headerBase, baseContext).base !== undefined) {
      throw new BlockDamagedError({
        address: headerBase,
        ...baseContext,
        reason: `the base of delta ${address} is itself a delta`,
      });
    }
    base = { address: headerBase, plain: await decodeBlock(baseBytes, headerBase, key, baseContext) };
  }
  const plain = await decodeBlock(bytes, address, key, context, base);
  if (plain.length !== length) {
    throw new BlockDamagedError({
      address,
      jobId,
      location,
      reason: `holds ${plain.length} bytes, the manifest says ${length}`,
    });
  }
  return plain;
}

/** Blocks read ahead of the one being used, when reading or verifying a namespace (each at most 32 KiB plain). */
export const DEFAULT_BLOCK_READ_AHEAD = 8;
/** Blocks per `getBlocks` call, for a store that has it; two such batches are read ahead. */
export const BLOCK_READ_BATCH = 32;

function blockBytes(read: BlockRead): Uint8Array {
  if ('error' in read) throw read.error;
  return read.bytes;
}

/** A chunk read back: its plain bytes, or why it could not be (a missing or damaged block, or a store failure). */
export type ChunkRead =
  | { readonly index: number; readonly plain: Uint8Array }
  | { readonly index: number; readonly error: unknown };

/**
 * The namespace's chunks read in order, up to `readAhead` blocks (and their bases) in flight ahead of the one
 * handed out, so a store's round trips overlap instead of adding up. Each result says which chunk it is; a failure
 * is handed out in its place rather than thrown, so a caller can go on (verify) or stop (read). Stopping early
 * (`return()`) waits for the reads in flight.
 */
export async function* readChunks(
  store: SnapshotStore,
  jobId: string,
  chunks: readonly Pick<ChunkRef, 'address' | 'length' | 'base'>[],
  key?: EncryptionKey,
  readAhead = DEFAULT_BLOCK_READ_AHEAD,
): AsyncGenerator<ChunkRead> {
  const inFlight: Promise<ChunkRead>[] = [];
  let next = 0;
  // A store with `getBlocks` is asked for BLOCK_READ_BATCH blocks at a time, two batches ahead.
  const batch = store.getBlocks === undefined ? 1 : BLOCK_READ_BATCH;
  const ahead = batch === 1 ? Math.max(1, readAhead) : 2 * batch;
  const fill = () => {
    while (inFlight.length < ahead && next < chunks.length) {
      const from = next;
      next = Math.min(chunks.length, from + batch);
      const reads =
        batch === 1
          ? undefined
          : store.getBlocks!(
              jobId,
              chunks.slice(from, next).map((c) => c.address),
            );
      for (let index = from; index < next; index++) {
        const read = reads?.then((all) => all[index - from] ?? { error: new Error('getBlocks: no result') });
        inFlight.push(
          readChunk(store, jobId, chunks[index]!, key, read).then(
            (plain) => ({ index, plain }),
            (error: unknown) => ({ index, error }),
          ),
        );
      }
    }
  };
  try {
    fill();
    while (inFlight.length > 0) {
      const result = await inFlight.shift()!;
      fill();
      yield result;
    }
  } finally {
    await Promise.all(inFlight);
  }
}

/**
 * Splits a stream of byte chunks into whole BSON documents (each a fresh buffer), checking the framing. Bytes are
 * joined only once a whole document is there, so a large document spanning many chunks is copied once.
 */
export class DocumentSplitter {
  private parts: Buffer[] = [];
  private total = 0;
  /** Size of the document at the front, once its prefix was read. */
  private needed = 0;

  /** Adds bytes; returns the documents now complete. Throws a plain `Error` describing bad framing. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (bytes.length === 0) return [];
    this.parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.total += bytes.length;
    if (this.total < 4 || this.total < this.needed) return [];
    const joined =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.total);
    const docs: Uint8Array[] = [];
    let offset = 0;
    this.needed = 0;
    while (joined.length - offset >= 4) {
      const size = joined.readInt32LE(offset);
      if (size < 5 || size > MAX_DOCUMENT_BYTES) throw new Error(`a document length prefix of ${size} bytes`);
      if (joined.length - offset < size) {
        this.needed = size;
        break;
      }
      if (joined[offset + size - 1] !== 0) throw new Error('a document that does not end with 0x00');
      docs.push(Uint8Array.prototype.slice.call(joined, offset, offset + size));
      offset += size;
    }
    const rest = joined.subarray(offset);
    this.parts = rest.length === 0 ? [] : [rest];
    this.total = rest.length;
    return docs;
  }

  /** Bytes left over that do not make a whole document. */
  get leftover(): number {
    return this.total;
  }
}

/**
 * The documents of `namespace` in the snapshot, as raw BSON in `_id` order. Throws {@link EncryptionKeyError} before
 * reading anything when the key is not the snapshot's, `BlockMissingError` / {@link BlockDamagedError} for a bad block,
 * and {@link SnapshotDamagedError} when the blocks are sound but do not make the namespace the manifest describes.
 */
export async function* readNamespace(
  store: SnapshotStore,
  manifest: SnapshotManifest,
  namespace: string | NamespaceManifest,
  key?: EncryptionKey,
): AsyncGenerator<Uint8Array> {
  const ns =
    typeof namespace === 'string' ? manifest.namespaces.find((n) => n.namespace === namespace) : namespace;
  const name = typeof namespace === 'string' ? namespace : namespace.namespace;
  const damaged = (reason: string) =>
    new SnapshotDamagedError({
      jobId: manifest.jobId,
      snapshotId: manifest.snapshotId,
      namespace: name,
      reason,
    });
  if (ns === undefined) throw damaged('not in the snapshot');
  const blockKey = keyForManifest(manifest, key);
  const hash = new Sha256();
  const splitter = new DocumentSplitter();
  let count = 0;
  for await (const read of readChunks(store, manifest.jobId, ns.chunks, blockKey)) {
    if ('error' in read) throw read.error;
    const { plain } = read;
    hash.update(plain);
    let docs: Uint8Array[];
    try {
      docs = splitter.push(plain);
    } catch (err) {
      throw damaged(`${err instanceof Error ? err.message : String(err)} after document ${count}`);
    }
    for (const doc of docs) {
      count++;
      yield doc;
    }
  }
  if (splitter.leftover > 0) throw damaged(`${splitter.leftover} bytes after the last whole document`);
  if (count !== ns.documentCount) throw damaged(`${count} documents, the manifest says ${ns.documentCount}`);
  const contentHash = hash.digestHex();
  if (contentHash !== ns.contentHash)
    throw damaged(`content hash ${contentHash}, the manifest says ${ns.contentHash}`);
}
