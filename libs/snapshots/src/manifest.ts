/**
 * A snapshot's manifest: everything needed to read the snapshot back and to check it, and nothing secret (the
 * encryption key id, never the key). The exact serialized form, its checksum and how to read it from another
 * language are specified in docs/format.md ("Snapshot manifest"); `manifest-codec.ts` writes and checks it.
 *
 * A snapshot is exactly the job's head database at the applied oplog position `opTime` (docs/format.md, "How a
 * snapshot is consistent").
 */
import { SNAPSHOT_STORE_KINDS, type OpTime, type SnapshotStoreKind } from '@tidemark/domain';

/** The snapshot store backends, as a job names its store (`--store`): the domain's list; `snapshot-store.ts` re-exports them. */
export const STORE_KINDS = SNAPSHOT_STORE_KINDS;
export type StoreKind = SnapshotStoreKind;

/** `in-progress` while blocks are written; `complete` once all are durable; `failed` when it was given up. */
export const SNAPSHOT_STATES = ['in-progress', 'complete', 'failed'] as const;
export type SnapshotState = (typeof SNAPSHOT_STATES)[number];

/** Block compression (docs/format.md says which and why). */
export type BlockCodec = 'brotli' | 'gzip' | 'zstd' | 'none';

/** One content-defined chunk of a namespace's data, in order. */
export interface ChunkRef {
  /** The block's address: SHA-256 (hex) of the chunk's plain bytes, or HMAC-SHA-256 under the key when encrypted. */
  readonly address: string;
  /** Bytes of the plain chunk (documents' raw BSON). */
  readonly length: number;
  /** Bytes of the block as stored (header included), when known to the writer. */
  readonly storedLength?: number;
  /**
   * When the block is a delta (block-codec.ts): the address of its base, a full block that must be kept and read
   * with it. Grooming keeps a base while any retained snapshot names it here (format 2).
   */
  readonly base?: string;
  /** Bytes of the base block as stored, when known to the writer. */
  readonly baseStoredLength?: number;
}

/** Every block a chunk needs: its own and, for a delta, its base. */
export function chunkBlocks(chunk: ChunkRef): string[] {
  return chunk.base === undefined ? [chunk.address] : [chunk.address, chunk.base];
}

/** Every distinct block a manifest needs (chunks and delta bases): what grooming must keep for it. */
export function referencedBlocks(manifest: SnapshotManifest): Set<string> {
  const out = new Set<string>();
  for (const ns of manifest.namespaces) for (const c of ns.chunks) for (const a of chunkBlocks(c)) out.add(a);
  return out;
}

/** An index as `listIndexes` returns it, minus nothing: key, name and options. */
export type IndexSpec = Readonly<Record<string, unknown>>;

export interface NamespaceManifest {
  /** The source namespace `db.collection`. */
  readonly namespace: string;
  readonly documentCount: number;
  /** Sum of the documents' BSON sizes. */
  readonly logicalBytes: number;
  /** SHA-256 (hex) of the namespace's documents' raw BSON concatenated in `_id` order. */
  readonly contentHash: string;
  /** Collection options as `listCollections` gives them (capped, validator, collation, ...). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly indexes: readonly IndexSpec[];
  readonly chunks: readonly ChunkRef[];
}

export interface SnapshotManifest {
  /** Manifest format version (docs/format.md). */
  readonly format: number;
  readonly jobId: string;
  /** The job's sync whose head database was copied. */
  readonly syncId: string;
  readonly snapshotId: string;
  /** The applied oplog position the snapshot is exactly. */
  readonly opTime: OpTime;
  /** Wall time of the entry at `opTime`, when known. */
  readonly opWallTime?: Date;
  /** When the snapshot began and ended. */
  readonly takenAt: Date;
  readonly completedAt?: Date;
  readonly store: StoreKind;
  readonly codec: BlockCodec;
  /** Chunking parameters (so a reader knows, and a change of them is visible). */
  readonly chunking: {
    readonly algorithm: string;
    readonly minSize: number;
    readonly avgSize: number;
    readonly maxSize: number;
    /** FastCDC normalization level (`fastcdc-2020`; 1 when absent). */
    readonly normalization?: number;
  };
  /** Present when blocks are encrypted: algorithm and the key's id, never the key. */
  readonly encryption?: { readonly algorithm: 'aes-256-gcm'; readonly keyId: string };
  readonly namespaces: readonly NamespaceManifest[];
  /** Sum of the namespaces' logical bytes. */
  readonly logicalBytes: number;
  /** Bytes of the blocks this snapshot wrote that were not in the store yet. */
  readonly storedBytes: number;
  /** Bytes of every distinct block the snapshot references, as stored. */
  readonly referencedBytes: number;
  /**
   * SHA-256 (hex) of the manifest's canonical JSON without this field (docs/format.md, "Snapshot manifest"); set by
   * `sealManifest` on every manifest a snapshot record carries, checked by `decodeManifest` and verify.
   */
  readonly checksum?: string;
}

/**
 * The manifest format this build writes. Format 2 added delta blocks (`ChunkRef.base`); this build reads 1 and 2
 * (a format-1 manifest names no bases).
 */
export const MANIFEST_FORMAT = 2;
/** The manifest formats this build reads. */
export const READABLE_MANIFEST_FORMATS: readonly number[] = [1, 2];
