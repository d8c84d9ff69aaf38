/**
 * The `SnapshotStore` port: where a job's snapshots live. One interface, three real backends in
 * `@tidemark/snapshot-stores` (`blockstore`: blocks and metadata in the backup-side MongoDB; `s3`: blocks as objects
 * in a bucket, metadata in MongoDB; `filesystem`: files under a directory). `memory-snapshot-store.ts` is a real
 * in-memory implementation for unit specs; `snapshot-store.contract.ts` is the conformance suite every backend runs.
 *
 * What a store keeps, per job (every call names the job; nothing crosses jobs):
 * - **blocks**: opaque bytes (a compressed, optionally encrypted chunk) under their address, a lowercase hex
 *   SHA-256 string (64 chars). A block's bytes never change once written: `putBlock` of an address that exists
 *   is a no-op. A block is durable once `putBlock` resolves; a crash during `putBlock` never leaves a partial block
 *   readable under the address (write then rename / single PUT / single insert).
 * - **snapshot records**: the manifest plus its state. A record is written `in-progress` first and replaced by
 *   `complete` (or `failed`) at the end; only a `complete` record's manifest is ever restored from. A store
 *   never shows a record as `complete` unless every block its manifest names was durable before.
 * - **the job's snapshot lock**: one holder at a time per job, with an expiry (a lease), taken by whoever
 *   writes blocks for a new snapshot or deletes blocks (grooming, snapshot deletion). This is what keeps grooming
 *   from deleting a block a snapshot in progress has decided to reuse (docs/format.md, "Grooming").
 *
 * Common contract: "not found" is `undefined` (or empty), never an error, except `getBlock`, whose caller has a
 * manifest naming the block: a missing block there is {@link BlockMissingError}. Failures throw; a
 * `TidemarkError` says whether repeating the call can succeed (`retriable`).
 */
import type { SnapshotManifest, SnapshotState, StoreKind } from './manifest';

// The backends (`STORE_KINDS`, `StoreKind`) are declared in manifest.ts, which records a snapshot's store, and
// re-exported here, so the two modules do not import each other.
export { STORE_KINDS, type StoreKind } from './manifest';

/** A snapshot as a store keeps it. */
export interface SnapshotRecord {
  readonly state: SnapshotState;
  /** Why a `failed` snapshot failed (absent otherwise). */
  readonly reason?: string;
  readonly manifest: SnapshotManifest;
}

/** One block of a `getBlocks`: its bytes, or why they could not be read. */
export type BlockRead = { readonly bytes: Uint8Array } | { readonly error: unknown };

/** A block to store: its address and its bytes. */
export interface BlockToStore {
  readonly address: string;
  readonly bytes: Uint8Array;
}

/** What {@link SnapshotStore.sweepLeftovers} removed. */
export interface LeftoversSwept {
  /** Files, objects or unfinished uploads removed. */
  readonly removed: number;
  /** Their bytes, where the store knows them (an unfinished upload counts 0). */
  readonly bytes: number;
  /** Set when the sweep stopped early because `stillHeld` answered false. */
  readonly stopped?: boolean;
}

export interface SweepLeftoversOptions {
  /** Only what was written before this moment goes (grooming passes now minus its grace period). */
  readonly olderThan: Date;
  /**
   * Asked before each deletion (or batch of them): whether the caller still holds the job's lock (renewing it when
   * due). The sweep stops when it answers false.
   */
  readonly stillHeld: () => Promise<boolean>;
}

/** A held lock on a job's snapshot store. */
export interface StoreLockGrant {
  readonly jobId: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

export interface SnapshotStore {
  readonly kind: StoreKind;

  /**
   * Stores `bytes` under `address` unless a block is already there (then nothing changes). Once it resolved, the
   * store holds no view on `bytes`: the caller may reuse or free them (a snapshot frees each block's buffer then).
   */
  putBlock(jobId: string, address: string, bytes: Uint8Array): Promise<void>;
  /**
   * `putBlock` for several blocks (a few dozen; distinct addresses) in as few round trips as the backend allows:
   * each is stored unless a block is already under its address, and all are durable when it resolves. A failure
   * may leave some stored and not others, as separate `putBlock`s would. As with `putBlock`, no view on the blocks'
   * bytes is kept once it resolved.
   */
  putBlocks(jobId: string, blocks: readonly BlockToStore[]): Promise<void>;
  hasBlock(jobId: string, address: string): Promise<boolean>;
  /** The ones among `addresses` (a few dozen) the store has, in as few round trips as the backend allows. */
  hasBlocks(jobId: string, addresses: readonly string[]): Promise<Set<string>>;
  /** The block's bytes; throws {@link BlockMissingError} when there is none. */
  getBlock(jobId: string, address: string): Promise<Uint8Array>;
  /**
   * `getBlock` for several blocks (a few dozen, in the order a snapshot reads them), in fewer requests where the
   * backend keeps neighbours together (an s3 pack: one ranged GET for the blocks of a pack that lie close). One result
   * per address, in order: its bytes, or the error `getBlock` would have thrown. Every call reads the backend afresh
   * (nothing is cached between calls, so verify sees damage). Optional: readers call `getBlock` for each otherwise.
   */
  getBlocks?(jobId: string, addresses: readonly string[]): Promise<BlockRead[]>;
  /** Deletes the block if present. Callers hold the job's lock. */
  deleteBlock(jobId: string, address: string): Promise<void>;
  /**
   * `deleteBlock` for several blocks (a few hundred; distinct addresses) in as few round trips as the backend
   * allows; returns the bytes of the blocks it deleted (their sizes as stored; an s3 pack's object is freed when its
   * last block goes). A failure may leave some deleted and not others, as separate `deleteBlock`s would. Callers hold
   * the job's lock.
   */
  deleteBlocks(jobId: string, addresses: readonly string[]): Promise<{ bytes: number }>;
  /** Every block address of the job, in no particular order. */
  listBlocks(jobId: string): AsyncIterable<string>;
  /**
   * Where the block lives in the backend (collection and `_id`, bucket key and range, file path), to name damage.
   * A store that must look a block up to know (an s3 pack) may answer exactly only after `getBlock` or `hasBlock(s)`
   * of it, so callers ask after reading.
   */
  blockLocation(jobId: string, address: string): string;

  /** Creates or replaces the record of `record.manifest.snapshotId`. */
  putSnapshot(record: SnapshotRecord): Promise<void>;
  getSnapshot(jobId: string, snapshotId: string): Promise<SnapshotRecord | undefined>;
  /** The job's snapshot records, newest `takenAt` first. */
  listSnapshots(jobId: string): Promise<SnapshotRecord[]>;
  /** Deletes the record only (its blocks go by grooming). */
  deleteSnapshot(jobId: string, snapshotId: string): Promise<void>;

  /**
   * Takes the job's snapshot lock for `owner` when it is free, expired, or already `owner`'s (then extends it);
   * `undefined` when another owner holds it.
   */
  acquireLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined>;
  /** Extends a lock `owner` still holds; `undefined` when it was lost (the work under it must stop). */
  renewLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined>;
  /** Gives the lock up; releasing a lock one does not hold changes nothing. */
  releaseLock(jobId: string, owner: string): Promise<void>;

  /** Deletes every block, record and the lock of the job (terminate). */
  deleteJob(jobId: string): Promise<void>;

  /**
   * Removes what crashed writers of the job left behind that is no block, record or lock and that nothing reads: a
   * temporary file, an object no index entry names, an unfinished multipart upload; only what is older than
   * `olderThan`. Grooming calls it under the job's lock. Optional: a store whose writes leave nothing behind (the
   * blockstore: one insert per block) has none.
   */
  sweepLeftovers?(jobId: string, options: SweepLeftoversOptions): Promise<LeftoversSwept>;
}
