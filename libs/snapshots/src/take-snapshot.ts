/**
 * Taking a snapshot of a job's head database (docs/format.md, "How a snapshot is consistent").
 *
 * In order, all under the job's snapshot lock (the store's lock) and the apply fence:
 * 1. take the job's snapshot lock, then hold the apply fence, so no oplog entry is applied to the head while it is
 *    copied; read the head's applied position P (the snapshot is exactly the head at P);
 * 2. write the record `in-progress`;
 * 3. per namespace (sorted), stream its raw BSON documents in `_id` order through the chunker; per chunk, reuse the
 *    block if the store has it, else encode and put it (as a delta of the previous snapshot's block at the same
 *    place when the delta is at most half that block's stored size: see `NamespaceCopier`); hash the namespace's
 *    bytes and count documents;
 * 4. renew lock and fence as time passes (checked before every document and every chunk, so the TTL must exceed the
 *    longest wait for one document or for the oldest of the block writes in flight); if either is lost, give the
 *    snapshot up (`failed` record);
 * 5. check lock and fence one last time and that the head is still at P, then write the record `complete`, with
 *    its sealed (checksum-carrying) manifest; release fence and lock (always).
 *
 * Reading, chunking and storing overlap, bounded (`SnapshotPipeline`; see `NamespaceCopier`). Memory, per namespace
 * copied at once (`namespacesInParallel`, 2): the read-ahead (`readAheadBytes`, 1 MiB, plus one batch of documents as
 * the head answered them), the next namespace's first answer (one cursor batch, asked for ahead: `OpenedAhead`), the
 * chunk being cut (at most `maxSize`) and the blocks in flight (two groups of `blockWriteWindow` x `maxSize`, plus
 * their encoded copies and delta bases); the manifest's chunk list (about 100 bytes per chunk) and the previous
 * snapshot's, which the take reads to find delta bases, are the only things that grow with the data. Nor does its
 * garbage: the documents read ahead (copied into slabs) and the chunks are lent by the take's pool and given back
 * (`TAKE_BUFFERS`), and each block's buffer is freed once the store has it (`discardBuffer`), since a buffer from a
 * compression worker would otherwise wait for a full collection.
 */
import { TidemarkError, formatOpTime, opTimeEquals } from '@tidemark/domain';
import { BufferPool, ByteBoundedQueue, QueueClosedError, Sha256, discardBuffer } from '@tidemark/util';
import {
  blockAddress,
  codecTakesDeltas,
  decodeBlock,
  encodeBlock,
  encodeDeltaBlock,
  MAX_DELTA_BASE_BYTES,
  readBlockHeader,
  type BlockEncoding,
  type EncodedBlock,
} from './block-codec';
import { Chunker, DEFAULT_CHUNKING, FASTCDC_ALGORITHM, type ChunkingOptions } from './chunker';
import type { ApplyFence, HeadNamespaceInfo, HeadSource } from './head-source';
import { MANIFEST_FORMAT, type ChunkRef, type NamespaceManifest, type SnapshotManifest } from './manifest';
import { assertPlainJson, sealManifest, validateManifest } from './manifest-codec';
import {
  BlockDamagedError,
  BlockMissingError,
  ManifestInvalidError,
  SnapshotUnavailableError,
} from './snapshot-errors';
import type { SnapshotRecord, SnapshotStore } from './snapshot-store';

/** Timings of the lock and fence. */
export interface SnapshotTimings {
  /** Lifetime of the store lock and of the fence between renewals (default 60 s). */
  readonly leaseTtlMs: number;
  /** Renew both when this much time has passed since the last renewal (default a third of the TTL). */
  readonly renewEveryMs: number;
  /** How long to wait for the apply fence (default 30 s). */
  readonly fenceWaitMs: number;
}

export const DEFAULT_SNAPSHOT_TIMINGS: SnapshotTimings = Object.freeze({
  leaseTtlMs: 60_000,
  renewEveryMs: 20_000,
  fenceWaitMs: 30_000,
});

/** How far the parts of a take run ahead of each other (memory is bounded by these, not by the data). */
export interface SnapshotPipeline {
  /** Head documents read ahead of the chunker, in bytes (one batch of them more when a single batch is larger). */
  readonly readAheadBytes: number;
  /**
   * Chunks stored together as one group (one `hasBlocks`, their encoding, one `putBlocks`); two groups are in flight
   * at once; integer >= 1.
   */
  readonly blockWriteWindow: number;
  /**
   * Namespaces copied at once, each with its own read-ahead and groups in flight; integer >= 1. Two: a take of two
   * namespaces of 20 MB ran at 0.97-1.02 of the raw scan (which reads them one after the other) instead of 0.87-0.92
   * (the in-process store, 39.2 MB), as mongodump copies several collections at once (`--numParallelCollections`).
   */
  readonly namespacesInParallel: number;
}

export const DEFAULT_SNAPSHOT_PIPELINE: SnapshotPipeline = Object.freeze({
  // 1 MiB, not 4: as fast in the benchmark, and documents that wait in the queue less often outlive two young
  // collections, so fewer reach the old generation, whose garbage waits for a full collection. With 4 MiB the
  // process's peak still grew from 39 to 157 MB of data (213 to 265 MiB); with 1 MiB it did not (205 / 207 MiB).
  readAheadBytes: 1024 * 1024,
  // Groups of 32 chunks of at most 32 KiB, two in flight: at most 2 MiB of chunks. 32, not 16: an s3 take ran at
  // 0.87-0.91 of the raw scan instead of 0.70-0.77 (half the packs, so half the requests; the S3 server's CPU
  // 0.29 s instead of 0.49 s for 39 MB), the blockstore's at 0.84-0.90 instead of 0.74-0.82, the others alike.
  blockWriteWindow: 32,
  namespacesInParallel: 2,
});

/** Progress of a snapshot, reported after every chunk and every namespace. */
export interface SnapshotProgress {
  readonly jobId: string;
  readonly snapshotId: string;
  readonly namespacesTotal: number;
  readonly namespacesDone: number;
  /** The namespace being copied (absent before the first and after the last). */
  readonly namespace?: string;
  readonly documents: number;
  readonly logicalBytes: number;
  readonly storedBytes: number;
  readonly newBlocks: number;
  readonly reusedBlocks: number;
}

export interface TakeSnapshotRequest {
  readonly jobId: string;
  readonly syncId: string;
  readonly snapshotId: string;
  /** Who takes it (lock and fence owner), e.g. `snapshotter:<host>:<pid>`. */
  readonly owner: string;
  readonly encoding: BlockEncoding;
  readonly chunking?: ChunkingOptions;
  readonly timings?: Partial<SnapshotTimings>;
  readonly pipeline?: Partial<SnapshotPipeline>;
  /** Called with progress; an error it throws is ignored (a listener cannot break a snapshot). */
  readonly onProgress?: (progress: SnapshotProgress) => void;
}

export interface SnapshotTakerDeps {
  readonly head: HeadSource;
  readonly fence: ApplyFence;
  readonly store: SnapshotStore;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly clock?: () => number;
}

/** Lost the lock or the fence, or the head moved: the snapshot is given up with a `failed` record. */
class GiveUp extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Takes snapshots: see the module's comment for the steps. */
export class SnapshotTaker {
  private readonly clock: () => number;

  constructor(private readonly deps: SnapshotTakerDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /**
   * Takes one snapshot. Resolves with the `complete` record, or with a `failed` one when the lock or the fence was
   * lost or the head moved (the reason says which). Throws {@link SnapshotUnavailableError} (retriable) when the lock,
   * the fence or an applied position cannot be had, without writing a record; any other error is rethrown after a
   * `failed` record was written (if the store still takes writes).
   */
  async take(request: TakeSnapshotRequest): Promise<SnapshotRecord> {
    const { store, fence } = this.deps;
    const { jobId, owner } = request;
    const timings = { ...DEFAULT_SNAPSHOT_TIMINGS, ...request.timings };
    const lockRequestedAt = this.clock();
    const lock = await store.acquireLock(jobId, owner, timings.leaseTtlMs);
    if (lock === undefined) throw new SnapshotUnavailableError(jobId, 'another holder has the snapshot lock');
    try {
      const fenceRequestedAt = this.clock();
      const fenced = await fence.hold(jobId, owner, timings.leaseTtlMs, timings.fenceWaitMs);
      if (fenced === undefined) {
        throw new SnapshotUnavailableError(
          jobId,
          `the apply fence was not granted within ${timings.fenceWaitMs} ms`,
        );
      }
      try {
        // The fence may have been granted late in its wait: its deadline counts from the request, conservatively.
        const leases = new Leases(
          this.deps,
          request,
          timings,
          this.clock,
          lockRequestedAt + timings.leaseTtlMs,
          fenceRequestedAt + timings.leaseTtlMs,
        );
        return await this.copy(request, leases);
      } finally {
        await fence.release(jobId, owner);
      }
    } finally {
      await store.releaseLock(jobId, owner);
    }
  }

  private async copy(request: TakeSnapshotRequest, leases: Leases): Promise<SnapshotRecord> {
    const { head, store } = this.deps;
    const { jobId, syncId, snapshotId } = request;
    const applied = await head.appliedPosition(jobId, syncId);
    if (applied === undefined) {
      throw new SnapshotUnavailableError(jobId, `the head of sync ${syncId} has no applied position yet`);
    }
    const chunker = new Chunker(request.chunking ?? DEFAULT_CHUNKING);
    const { minSize, avgSize, maxSize, normalization } = chunker.options;
    let manifest: SnapshotManifest = {
      format: MANIFEST_FORMAT,
      jobId,
      syncId,
      snapshotId,
      opTime: applied.opTime,
      ...(applied.wallTime === undefined ? {} : { opWallTime: applied.wallTime }),
      takenAt: new Date(this.clock()),
      store: store.kind,
      codec: request.encoding.codec,
      chunking: { algorithm: FASTCDC_ALGORITHM, minSize, avgSize, maxSize, normalization },
      ...(request.encoding.key === undefined
        ? {}
        : { encryption: { algorithm: 'aes-256-gcm' as const, keyId: request.encoding.key.keyId } }),
      namespaces: [],
      logicalBytes: 0,
      storedBytes: 0,
      referencedBytes: 0,
    };
    await store.putSnapshot({ state: 'in-progress', manifest: sealManifest(manifest) });
    try {
      const copied = await new NamespaceCopier(this.deps, request, leases, manifest).copyAll();
      manifest = { ...manifest, ...copied };
      await leases.renewBoth();
      const after = await head.appliedPosition(jobId, syncId);
      if (after === undefined || !opTimeEquals(after.opTime, applied.opTime)) {
        throw new GiveUp(
          `the head moved from ${formatOpTime(applied.opTime)} to ${after === undefined ? 'nothing' : formatOpTime(after.opTime)} while fenced`,
        );
      }
      const complete = sealManifest({ ...manifest, completedAt: new Date(this.clock()) });
      const problems = validateManifest(complete);
      if (problems.length > 0) throw new ManifestInvalidError(problems, { snapshotId });
      const record: SnapshotRecord = { state: 'complete', manifest: complete };
      await store.putSnapshot(record);
      // The record must have been written while the lock was surely held (a groomer could run after it expired).
      if (!leases.held()) throw new GiveUp('writing the complete record outlasted the snapshot lock');
      return record;
    } catch (err) {
      const reason =
        err instanceof GiveUp ? err.reason : `failed: ${err instanceof Error ? err.message : String(err)}`;
      const failed: SnapshotRecord = { state: 'failed', reason, manifest: sealManifest(manifest) };
      try {
        await store.putSnapshot(failed);
      } catch (putError) {
        if (err instanceof GiveUp) throw putError;
        // The original error says more than the store's failure to record it.
      }
      if (err instanceof GiveUp) return failed;
      throw err;
    }
  }
}

/**
 * The lock and the fence, renewed as time passes. Their deadlines are kept on this process's clock, counted from
 * just before each request (never from the `expiresAt` a store or fence reports, which another clock may have
 * computed), so clock skew can only make this side give up early, never late.
 */
class Leases {
  private lastRenewAt: number;
  /** The renewal under way, which concurrent callers of `renewBoth` join. */
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly deps: SnapshotTakerDeps,
    private readonly request: TakeSnapshotRequest,
    private readonly timings: SnapshotTimings,
    private readonly clock: () => number,
    private lockDeadline: number,
    private fenceDeadline: number,
  ) {
    this.lastRenewAt = Math.min(lockDeadline, fenceDeadline) - timings.leaseTtlMs;
  }

  /** True while both deadlines are ahead (on this process's clock). */
  held(): boolean {
    return this.clock() < Math.min(this.lockDeadline, this.fenceDeadline);
  }

  /** Whether a renewal is due (checked before every document and every chunk: a plain call, no promise). */
  due(): boolean {
    return this.clock() - this.lastRenewAt >= this.timings.renewEveryMs;
  }

  /**
   * Renews both now; throws {@link GiveUp} when either is lost (expired counts as lost). A caller that comes while a
   * renewal is under way (namespaces are copied at once) joins it rather than renewing again beside it.
   */
  renewBoth(): Promise<void> {
    this.renewing ??= this.renewNow().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async renewNow(): Promise<void> {
    const { store, fence } = this.deps;
    const { jobId, owner } = this.request;
    const ttl = this.timings.leaseTtlMs;
    const now = this.clock();
    if (now >= this.lockDeadline) throw new GiveUp(`the snapshot lock of ${owner} expired`);
    if (now >= this.fenceDeadline) throw new GiveUp(`the apply fence of ${owner} expired`);
    if ((await store.renewLock(jobId, owner, ttl)) === undefined) {
      throw new GiveUp(`the snapshot lock of ${owner} was lost`);
    }
    if ((await fence.renew(jobId, owner, ttl)) === undefined)
      throw new GiveUp(`the apply fence of ${owner} was lost`);
    this.lockDeadline = now + ttl;
    this.fenceDeadline = now + ttl;
    this.lastRenewAt = now;
  }
}

/** What this take knows a block in the store to be: its stored size and, for a delta, its base. */
interface KnownBlock {
  readonly storedLength: number;
  readonly base?: string;
  readonly baseStoredLength?: number;
}

/** A chunk of the previous snapshot whose base a changed chunk may use as its delta base. */
interface DeltaCandidate {
  /** The full block to take as base: the old chunk's own, or its base when the old chunk is itself a delta. */
  readonly base: string;
}

/**
 * One namespace of the previous complete snapshot, laid out by offset: where a new chunk that is not in the store
 * most likely came from. After every chunk found unchanged the alignment is set again, so inserted or deleted
 * documents shift the guess only until the next unchanged chunk.
 */
class PreviousLayout {
  private readonly offsets: number[] = [];
  private readonly index = new Map<string, number>();
  private shift = 0;

  constructor(private readonly chunks: readonly ChunkRef[]) {
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      this.offsets.push(offset);
      if (!this.index.has(chunk.address)) this.index.set(chunk.address, i);
      offset += chunk.length;
    }
  }

  /**
   * Called for each new chunk in order, at `offset` in the namespace's bytes: the old chunk to delta against when
   * the new one is not an old one.
   */
  next(address: string, offset: number, length: number): DeltaCandidate | undefined {
    const same = this.index.get(address);
    if (same !== undefined) {
      this.shift = offset - (this.offsets[same] as number);
      return undefined;
    }
    if (this.chunks.length === 0) return undefined;
    const middle = offset - this.shift + length / 2;
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.offsets[mid] as number) <= middle) lo = mid;
      else hi = mid - 1;
    }
    const old = this.chunks[lo] as ChunkRef;
    if (old.base === undefined && old.length > MAX_DELTA_BASE_BYTES) return undefined;
    return { base: old.base ?? old.address };
  }
}

/** A chunk cut and addressed, waiting for its group to be stored. */
interface PendingChunk {
  readonly chunk: Uint8Array;
  readonly address: string;
  readonly candidate?: DeltaCandidate;
}

/** A chunk encoded as a block, and its base when it is a delta. */
interface Encoded {
  readonly block: EncodedBlock;
  readonly delta?: { readonly base: string; readonly baseStoredLength: number };
}

/** Groups of chunks being stored at once (each one `hasBlocks` and one `putBlocks`). */
const GROUPS_IN_FLIGHT = 2;

/**
 * The take's buffer pool (documents read ahead, in slabs of up to `SLAB_BYTES`, and chunks, 4-32 KiB by default).
 * Both live a few hundred milliseconds, long enough to outlive V8's young generation: freshly allocated, their
 * garbage waited for a full collection, which V8 starts when memory outside its heap grew by about 64 MiB, so a
 * take's peak grew with the data until that much was waiting. Lent again, they are the same few MiB throughout.
 */
const TAKE_BUFFERS = { minBytes: 4096, maxBytes: 1024 * 1024, maxFreeBytes: 16 * 1024 * 1024 };

/** Slabs hold up to this many bytes of documents (the pool's largest); a larger document gets a buffer of its own. */
const SLAB_BYTES = TAKE_BUFFERS.maxBytes;

/** A block this take writes: the chunk, and the promise other chunks with its address wait on. */
class OwnWrite {
  readonly promise: Promise<KnownBlock>;
  resolve!: (block: KnownBlock) => void;
  reject!: (err: unknown) => void;

  constructor(readonly item: PendingChunk) {
    this.promise = new Promise<KnownBlock>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.promise.catch(() => undefined); // awaited by the group; a failure surfaces there
  }
}

/** What copying one namespace's documents gave. */
interface CopiedDocuments {
  readonly documentCount: number;
  readonly logicalBytes: number;
  readonly contentHash: string;
  readonly chunks: ChunkRef[];
}

/**
 * Copies every namespace of the head, chunk by chunk, `namespacesInParallel` namespaces at once. Three things
 * overlap, bounded, so a snapshot runs at about the speed of its slowest part instead of the sum of all:
 * - listing and copying: namespaces the head's catalogs name (`HeadSource.catalogNamespaces`) are copied while the
 *   listing runs; the listing then decides what the manifest holds (a catalog namespace it does not list had no
 *   documents to copy), and namespaces only it names are copied after;
 * - reading and chunking: documents are read ahead of the chunker (`readAheadBytes`), a batch at a time when the head
 *   gives them so (`HeadSource.documentBatches`);
 * - chunking and storing: chunks are stored in groups of `blockWriteWindow` (one `hasBlocks` and one `putBlocks` a
 *   group, so a store's round trips are per group, not per chunk), two groups at once; references are kept in chunk
 *   order. Two chunks with one address in flight at once write the block once.
 * The manifest's totals are computed from the namespaces it holds, never from running counters.
 */
class NamespaceCopier {
  private documents = 0;
  private logicalBytes = 0;
  private storedBytes = 0;
  private newBlocks = 0;
  private reusedBlocks = 0;
  private namespacesTotal = 0;
  private namespacesDone = 0;
  /** Blocks the previous complete snapshot names (its blocks are in the store: grooming keeps them). */
  private known = new Map<string, KnownBlock>();
  /** The previous complete snapshot, when its blocks can serve as delta bases (compressed codecs, same key). */
  private previous: SnapshotManifest | undefined;
  /** Blocks this snapshot wrote. */
  private readonly written = new Map<string, KnownBlock>();
  /**
   * The store held no block of the job when the copy began. The job's lock is held, so no one else writes its
   * blocks: a block is then in the store only if this take wrote it (`written`, `inFlight`), and the take asks
   * the store nothing (a job's first snapshot, its largest, makes no lookups).
   */
  private storeHeldNone = false;
  /** Block writes in flight, by address: a second chunk with the same address waits for the first. */
  private readonly inFlight = new Map<string, Promise<KnownBlock>>();
  private readonly pipeline: SnapshotPipeline;
  /** Buffers for the documents read ahead and the chunks waiting to be stored, lent again once done with. */
  private readonly buffers = new BufferPool(TAKE_BUFFERS);

  constructor(
    private readonly deps: SnapshotTakerDeps,
    private readonly request: TakeSnapshotRequest,
    private readonly leases: Leases,
    private readonly base: SnapshotManifest,
  ) {
    this.pipeline = { ...DEFAULT_SNAPSHOT_PIPELINE, ...request.pipeline };
    const { readAheadBytes, blockWriteWindow, namespacesInParallel } = this.pipeline;
    if (!(readAheadBytes > 0)) throw new RangeError(`readAheadBytes must be > 0, got ${readAheadBytes}`);
    if (!Number.isSafeInteger(blockWriteWindow) || blockWriteWindow < 1)
      throw new RangeError(`blockWriteWindow must be an integer >= 1, got ${blockWriteWindow}`);
    if (!Number.isSafeInteger(namespacesInParallel) || namespacesInParallel < 1)
      throw new RangeError(`namespacesInParallel must be an integer >= 1, got ${namespacesInParallel}`);
  }

  async copyAll(): Promise<
    Pick<SnapshotManifest, 'namespaces' | 'logicalBytes' | 'storedBytes' | 'referencedBytes'>
  > {
    const { head, store } = this.deps;
    const { jobId, syncId } = this.request;
    // The listing runs while the catalog's namespaces are copied; its failure surfaces where it is awaited.
    const listing = head.listNamespaces(jobId, syncId);
    listing.catch(() => undefined);
    // Blocks say their own codec, so a Brotli snapshot builds on a gzip one (a job's first after an upgrade) and
    // the reverse; a snapshot without compression builds only on its like.
    const previous = (await store.listSnapshots(jobId)).find(
      (r) =>
        r.state === 'complete' &&
        (r.manifest.codec === this.base.codec ||
          (codecTakesDeltas(r.manifest.codec) && codecTakesDeltas(this.base.codec))),
    );
    this.storeHeldNone = previous === undefined && (await holdsNoBlocks(store, jobId));
    for (const ns of previous?.manifest.namespaces ?? []) {
      for (const c of ns.chunks) {
        if (c.storedLength === undefined) continue;
        this.known.set(c.address, {
          storedLength: c.storedLength,
          ...(c.base === undefined ? {} : { base: c.base }),
          ...(c.baseStoredLength === undefined ? {} : { baseStoredLength: c.baseStoredLength }),
        });
      }
    }
    if (
      previous !== undefined &&
      codecTakesDeltas(this.base.codec) &&
      previous.manifest.encryption?.keyId === this.base.encryption?.keyId
    ) {
      this.previous = previous.manifest;
    }
    const copied = new Map<string, CopiedDocuments>();
    const early = [...new Set((await head.catalogNamespaces?.(jobId, syncId)) ?? [])].sort(byName);
    this.namespacesTotal = early.length;
    const ahead = new OpenedAhead((namespace) => documentBatches(head, jobId, syncId, namespace));
    try {
      await this.copyEach(early, ahead, copied);
      return await this.copyListed(await listing, copied, ahead);
    } finally {
      await ahead.close();
    }
  }

  /** Checks the listing against the catalog's namespaces copied, copies the namespaces only the listing names. */
  private async copyListed(
    listed: readonly HeadNamespaceInfo[],
    copied: Map<string, CopiedDocuments>,
    ahead: OpenedAhead<DocumentBatch>,
  ): Promise<Pick<SnapshotManifest, 'namespaces' | 'logicalBytes' | 'storedBytes' | 'referencedBytes'>> {
    const { syncId } = this.request;
    const infos = [...listed].sort((a, b) => byName(a.namespace, b.namespace));
    const names = new Set(infos.map((info) => info.namespace));
    for (const [namespace, docs] of copied) {
      // Under the fence the catalog and the listing see one head: a namespace the listing leaves out had no
      // documents. If it had some, the two disagree, and the snapshot is not taken rather than guessed at.
      if (!names.has(namespace) && docs.documentCount > 0) {
        throw new TidemarkError(
          `head of ${syncId}: ${namespace} has ${docs.documentCount} documents but the head's listing leaves it out`,
          { retriable: true },
        );
      }
    }
    this.namespacesTotal = infos.length;
    this.namespacesDone = infos.filter((info) => copied.has(info.namespace)).length;
    for (const info of infos) {
      assertPlainJson(info.options, `${info.namespace} options`);
      assertPlainJson(info.indexes, `${info.namespace} indexes`);
    }
    const rest = infos.filter((info) => !copied.has(info.namespace)).map((info) => info.namespace);
    await this.copyEach(rest, ahead, copied);
    const namespaces: NamespaceManifest[] = infos.map((info) => ({
      namespace: info.namespace,
      ...copied.get(info.namespace)!,
      options: info.options,
      indexes: info.indexes,
    }));
    this.known = new Map();
    this.previous = undefined;
    return { namespaces, ...this.totals(namespaces) };
  }

  /** The manifest's byte totals, from the namespaces it holds. */
  private totals(
    namespaces: readonly NamespaceManifest[],
  ): Pick<SnapshotManifest, 'logicalBytes' | 'storedBytes' | 'referencedBytes'> {
    const referenced = new Map<string, number>();
    let logicalBytes = 0;
    for (const ns of namespaces) {
      logicalBytes += ns.logicalBytes;
      for (const c of ns.chunks) {
        referenced.set(c.address, c.storedLength ?? 0);
        if (c.base !== undefined && !referenced.has(c.base)) referenced.set(c.base, c.baseStoredLength ?? 0);
      }
    }
    let storedBytes = 0;
    let referencedBytes = 0;
    for (const [address, size] of referenced) {
      referencedBytes += size;
      storedBytes += this.written.get(address)?.storedLength ?? 0;
    }
    return { logicalBytes, storedBytes, referencedBytes };
  }

  /**
   * Copies `namespaces` into `copied`, `namespacesInParallel` at once (in this order of turns), each one's first answer
   * asked for ahead of its turn. The first failure stops the others at their next batch, and is thrown once all have
   * stopped (nothing of the take runs on after it fails).
   */
  private async copyEach(
    namespaces: readonly string[],
    ahead: OpenedAhead<DocumentBatch>,
    copied: Map<string, CopiedDocuments>,
  ): Promise<void> {
    const width = this.pipeline.namespacesInParallel;
    let turn = 0;
    let failure: { readonly err: unknown } | undefined;
    const stopped = () => failure !== undefined;
    const lane = async (): Promise<void> => {
      while (!stopped() && turn < namespaces.length) {
        const k = turn++;
        const namespace = namespaces[k] as string;
        try {
          const docs = await this.copyDocuments(
            namespace,
            ahead.take(namespace, namespaces[k + width]),
            stopped,
          );
          copied.set(namespace, docs);
          this.namespacesDone++;
          this.report();
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, namespaces.length) }, lane));
    if (failure !== undefined) throw failure.err;
  }

  /** Copies one namespace's documents (the head's, in `_id` order); gives up at a batch once `stopped()`. */
  private async copyDocuments(
    namespace: string,
    batches: AsyncIterable<DocumentBatch>,
    stopped: () => boolean,
  ): Promise<CopiedDocuments> {
    const chunker = new Chunker(this.request.chunking ?? DEFAULT_CHUNKING, this.buffers);
    const hash = new Sha256();
    const chunks: ChunkRef[] = [];
    let group: PendingChunk[] = [];
    const groups: Promise<ChunkRef[]>[] = [];
    const old = this.previous?.namespaces.find((ns) => ns.namespace === namespace);
    const layout = old === undefined ? undefined : new PreviousLayout(old.chunks);
    let documentCount = 0;
    let logicalBytes = 0;
    let offset = 0;
    const flush = async (): Promise<void> => {
      if (group.length === 0) return;
      const items = group;
      const stored = this.storeGroup(items, namespace).then((refs) => {
        // Stored: nothing holds the chunks any more (a failed group's are left to the garbage collector).
        for (const item of items) this.buffers.give(item.chunk);
        return refs;
      });
      group = [];
      stored.catch(() => undefined); // awaited in order below; a failure surfaces there
      groups.push(stored);
      if (groups.length >= GROUPS_IN_FLIGHT) chunks.push(...(await groups.shift()!));
    };
    const schedule = async (chunk: Uint8Array): Promise<void> => {
      hash.update(chunk);
      if (this.leases.due()) await this.leases.renewBoth();
      const address = blockAddress(chunk, this.request.encoding.key);
      const candidate = layout?.next(address, offset, chunk.length);
      offset += chunk.length;
      group.push({ chunk, address, ...(candidate === undefined ? {} : { candidate }) });
      if (group.length >= this.pipeline.blockWriteWindow) await flush();
    };
    const docs = readAhead(batches, this.pipeline.readAheadBytes, this.buffers);
    try {
      for await (const { documents: batch, slabs } of docs.items) {
        if (stopped()) {
          throw new TidemarkError(`copy of ${namespace} stopped: another namespace failed`, {
            retriable: true,
          });
        }
        for (const doc of batch) {
          if (this.leases.due()) await this.leases.renewBoth();
          checkDocument(doc, namespace, documentCount);
          documentCount++;
          logicalBytes += doc.length;
          this.documents++;
          this.logicalBytes += doc.length;
          for (const chunk of chunker.push(doc)) await schedule(chunk);
        }
        // The chunker copied every document of the batch: its slabs can hold another batch.
        for (const slab of slabs) this.buffers.give(slab);
      }
      for (const chunk of chunker.finish()) await schedule(chunk);
      await flush();
      while (groups.length > 0) chunks.push(...(await groups.shift()!));
    } catch (err) {
      await Promise.allSettled(groups);
      throw err;
    } finally {
      await docs.stop();
    }
    return { documentCount, logicalBytes, contentHash: hash.digestHex(), chunks };
  }

  /**
   * Stores a group of chunks: one `hasBlocks` for the addresses this take has not written or started yet, then
   * each missing chunk encoded (a delta of its candidate's base when that is at most half the base's stored size,
   * else whole), then one `putBlocks`. A chunk whose address another group is writing waits for that write, so a
   * block is written once. Resolves the group's references in order.
   */
  private async storeGroup(items: readonly PendingChunk[], namespace: string): Promise<ChunkRef[]> {
    const own: OwnWrite[] = [];
    const blocks = items.map((item) => {
      const written = this.written.get(item.address);
      if (written !== undefined) {
        this.reusedBlocks++;
        return Promise.resolve(written);
      }
      const writing = this.inFlight.get(item.address);
      if (writing !== undefined) {
        this.reusedBlocks++;
        return writing;
      }
      const write = new OwnWrite(item);
      this.inFlight.set(item.address, write.promise);
      own.push(write);
      return write.promise;
    });
    try {
      await this.writeGroup(own);
    } catch (err) {
      for (const write of own) write.reject(err);
    } finally {
      for (const write of own) this.inFlight.delete(write.item.address);
    }
    const known = await Promise.all(blocks);
    this.report(namespace);
    return items.map((item, k) => ({ address: item.address, length: item.chunk.length, ...known[k] }));
  }

  private async writeGroup(own: readonly OwnWrite[]): Promise<void> {
    if (own.length === 0) return;
    const { store } = this.deps;
    const { jobId } = this.request;
    const present = this.storeHeldNone
      ? new Set<string>()
      : await store.hasBlocks(
          jobId,
          own.map((w) => w.item.address),
        );
    const missing: OwnWrite[] = [];
    for (const write of own) {
      const { address } = write.item;
      if (present.has(address)) {
        const existing = this.known.get(address) ?? (await this.inspect(address));
        if (existing !== undefined) {
          this.reusedBlocks++;
          write.resolve(existing);
          continue;
        }
        // A delta whose base is gone (left by a failed snapshot, its base groomed): unreadable, so replaced. The
        // lock is held, so no one else reads or writes the job's blocks meanwhile.
        await store.deleteBlock(jobId, address);
      }
      missing.push(write);
    }
    const encoded = await Promise.all(missing.map((write) => this.encode(write.item)));
    await store.putBlocks(
      jobId,
      encoded.map((e) => e.block),
    );
    for (const [k, write] of missing.entries()) {
      const { block, delta } = encoded[k] as Encoded;
      const result: KnownBlock = { storedLength: block.bytes.length, ...delta };
      this.written.set(block.address, result);
      this.newBlocks++;
      this.storedBytes += block.bytes.length;
      write.resolve(result);
    }
    // The store keeps no view on what it was given once it resolved (`SnapshotStore.putBlocks`), and the blocks are
    // this take's own (the encoder made them): their memory is freed now (see `discardBuffer`).
    for (const { block } of encoded) discardBuffer(block.bytes);
  }

  /** The chunk as a block: a delta of its candidate's base when that is at most half the base's size, else whole. */
  private async encode(item: PendingChunk): Promise<Encoded> {
    const { encoding } = this.request;
    const { chunk, address, candidate } = item;
    if (candidate !== undefined && candidate.base !== address && codecTakesDeltas(encoding.codec)) {
      const base = await this.readBase(candidate.base);
      if (base !== undefined) {
        const block = await encodeDeltaBlock(
          chunk,
          { address: candidate.base, plain: base.plain },
          encoding,
          address,
        );
        if (block.bytes.length * 2 <= base.storedLength) {
          return { block, delta: { base: candidate.base, baseStoredLength: base.storedLength } };
        }
        discardBuffer(block.bytes); // not kept: a worker's answer, freed now (see `writeGroup`)
      }
    }
    return { block: await encodeBlock(chunk, encoding, address) };
  }

  /**
   * What an existing block the previous snapshot does not name is (one read): `undefined` for a delta whose base is
   * not in the store. A block whose header is damaged is taken as it is, as before deltas: verify names it.
   */
  private async inspect(address: string): Promise<KnownBlock | undefined> {
    const { store } = this.deps;
    const { jobId } = this.request;
    const bytes = await store.getBlock(jobId, address);
    let base: string | undefined;
    try {
      base = readBlockHeader(bytes, address).base;
    } catch (err) {
      if (err instanceof BlockDamagedError) return { storedLength: bytes.length };
      throw err;
    }
    if (base === undefined) return { storedLength: bytes.length };
    if (!(await store.hasBlock(jobId, base))) return undefined;
    return { storedLength: bytes.length, base };
  }

  /**
   * A delta base's plain bytes and stored size; `undefined` when it cannot serve (missing, damaged, itself a delta,
   * larger than deflate's window): the chunk is then stored whole. Store failures are thrown.
   */
  private async readBase(address: string): Promise<{ plain: Uint8Array; storedLength: number } | undefined> {
    const { store } = this.deps;
    const { jobId, encoding } = this.request;
    try {
      const bytes = await store.getBlock(jobId, address);
      if (readBlockHeader(bytes, address).base !== undefined) return undefined;
      const plain = await decodeBlock(bytes, address, encoding.key, { jobId });
      if (plain.length === 0 || plain.length > MAX_DELTA_BASE_BYTES) return undefined;
      return { plain, storedLength: bytes.length };
    } catch (err) {
      if (err instanceof BlockMissingError || err instanceof BlockDamagedError) return undefined;
      throw err;
    }
  }

  private report(namespace?: string): void {
    const listener = this.request.onProgress;
    if (listener === undefined) return;
    try {
      listener({
        jobId: this.request.jobId,
        snapshotId: this.request.snapshotId,
        namespacesTotal: this.namespacesTotal,
        namespacesDone: this.namespacesDone,
        ...(namespace === undefined ? {} : { namespace }),
        documents: this.documents,
        logicalBytes: this.logicalBytes,
        storedBytes: this.storedBytes,
        newBlocks: this.newBlocks,
        reusedBlocks: this.reusedBlocks,
      });
    } catch {
      // A progress listener cannot break a snapshot (documented on onProgress).
    }
  }
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Whether the store holds no block of the job (reads at most the first one it lists). */
async function holdsNoBlocks(store: SnapshotStore, jobId: string): Promise<boolean> {
  const blocks = store.listBlocks(jobId)[Symbol.asyncIterator]();
  try {
    return (await blocks.next()).done === true;
  } finally {
    await blocks.return?.();
  }
}

/**
 * The head's namespaces, each asked for its first document one namespace ahead of its turn, so the head's server
 * runs the next query (FerretDB, for one, reads and sorts a whole collection before it answers) while this process
 * copies the namespace before. Holds at most what a source buffers for one answer (a cursor's first batch).
 */
class OpenedAhead<T> {
  private readonly opened = new Map<string, AsyncIterator<T>>();
  private readonly firsts = new Map<string, Promise<IteratorResult<T>>>();

  constructor(private readonly open: (namespace: string) => AsyncIterable<T>) {}

  /** `namespace`'s documents (opened now unless opened ahead), and `next`'s first answer asked for. */
  take(namespace: string, next: string | undefined): AsyncIterable<T> {
    this.ask(namespace);
    const iterator = this.opened.get(namespace)!;
    let first = this.firsts.get(namespace);
    this.opened.delete(namespace);
    this.firsts.delete(namespace);
    if (next !== undefined) this.ask(next);
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          if (first === undefined) return iterator.next();
          const head = first;
          first = undefined;
          return head;
        },
        // An async generator runs a return() after the next() pending, so the cursor closes once that answered.
        return: async (value?: unknown) =>
          (await iterator.return?.(value)) ?? { done: true as const, value: undefined },
      }),
    };
  }

  /** Closes the sources opened ahead and not taken (a take that failed or stopped). */
  async close(): Promise<void> {
    const left = [...this.opened.values()];
    this.opened.clear();
    this.firsts.clear();
    await Promise.allSettled(left.map((iterator) => iterator.return?.()));
  }

  private ask(namespace: string): void {
    if (this.opened.has(namespace)) return;
    const iterator = this.open(namespace)[Symbol.asyncIterator]();
    const first = iterator.next();
    first.catch(() => undefined); // surfaces when the namespace's turn comes
    this.opened.set(namespace, iterator);
    this.firsts.set(namespace, first);
  }
}

/**
 * Reads `source` ahead of its consumer into a queue of at most `maxBytes` (one item more when a single item is
 * larger). `stop()` ends the reading (the source's iterator is returned, closing a cursor) and waits for it.
 *
 * Each batch is copied into slabs lent by `pool` as it arrives, so the head's answer (a server's whole reply, which
 * the documents are views on) is garbage at once, while it is young, instead of after its wait in the queue; the
 * consumer gives the slabs back once it copied the documents (see `TAKE_BUFFERS`).
 */
function readAhead(
  source: AsyncIterable<DocumentBatch>,
  maxBytes: number,
  pool: BufferPool,
): { items: AsyncIterable<CopiedBatch>; stop: () => Promise<void> } {
  const queue = new ByteBoundedQueue<CopiedBatch>({
    maxItems: Number.MAX_SAFE_INTEGER,
    maxBytes,
    sizeOf: (batch) => batchBytes(batch.documents),
  });
  const reading = (async () => {
    try {
      for await (const item of source) await queue.put(copyBatch(item, pool));
      queue.close();
    } catch (err) {
      if (!(err instanceof QueueClosedError)) queue.fail(err);
    }
  })();
  return {
    items: queue,
    stop: async () => {
      queue.close();
      await reading;
    },
  };
}

/** Documents in the batches a head answered with (`HeadSource.documentBatches`), or one by one. */
type DocumentBatch = readonly Uint8Array[];

/**
 * A namespace's documents in batches: the head's own (`documentBatches`: a server's answer at a time, no promise
 * per document), else each document alone.
 */
function documentBatches(
  head: HeadSource,
  jobId: string,
  syncId: string,
  namespace: string,
): AsyncIterable<DocumentBatch> {
  return (
    head.documentBatches?.(jobId, syncId, namespace) ?? oneByOne(head.documents(jobId, syncId, namespace))
  );
}

async function* oneByOne(documents: AsyncIterable<Uint8Array>): AsyncIterable<DocumentBatch> {
  for await (const doc of documents) yield [doc];
}

/** A batch of documents copied into slabs lent by a pool: the documents are views on the slabs. */
interface CopiedBatch {
  readonly documents: DocumentBatch;
  readonly slabs: readonly Uint8Array[];
}

function copyBatch(batch: DocumentBatch, pool: BufferPool): CopiedBatch {
  const documents: Uint8Array[] = [];
  const slabs: Uint8Array[] = [];
  let remaining = batchBytes(batch);
  let slab: Uint8Array | undefined;
  let used = 0;
  for (const doc of batch) {
    if (slab === undefined || used + doc.length > slab.length) {
      slab = pool.take(Math.max(doc.length, Math.min(remaining, SLAB_BYTES)));
      slabs.push(slab);
      used = 0;
    }
    slab.set(doc, used);
    documents.push(slab.subarray(used, used + doc.length));
    used += doc.length;
    remaining -= doc.length;
  }
  return { documents, slabs };
}

function batchBytes(batch: DocumentBatch): number {
  let bytes = 0;
  for (const doc of batch) bytes += doc.length;
  return bytes;
}

/** A head document must be one whole BSON document: its int32 length prefix is its size, and it ends with 0. */
function checkDocument(doc: Uint8Array, namespace: string, index: number): void {
  const declared =
    doc.length >= 4
      ? (doc[0] as number) |
        ((doc[1] as number) << 8) |
        ((doc[2] as number) << 16) |
        ((doc[3] as number) << 24)
      : -1;
  if (doc.length < 5 || declared !== doc.length || doc[doc.length - 1] !== 0) {
    throw new TidemarkError(
      `head document ${index} of ${namespace}: ${doc.length} bytes is not one whole BSON document ` +
        `(length prefix ${declared})`,
      { retriable: false },
    );
  }
}
