/**
 * Grooming: removing the blocks no snapshot worth keeping references (docs/format.md, "Grooming"). Mark and sweep,
 * under the job's snapshot-store lock:
 * - **mark**: every address named by a record that is `complete` or `in-progress`, and by every record younger
 *   than the grace period whatever its state: its chunks' blocks and their delta bases;
 * - **sweep**: delete every other block of the job, in batches, renewing the lock as it goes; stop at once if it is
 *   lost;
 * - then the store's leftovers older than the grace period (`SnapshotStore.sweepLeftovers`): what a crashed writer
 *   left that is no block (a temporary file, an object no index entry names, an unfinished upload).
 *
 * Why a block a snapshot decided to reuse is never deleted under it: a snapshot and grooming of one job both hold
 * the job's store lock for their whole run, so they never overlap; a snapshot checks `hasBlock` and later writes its
 * `complete` record under one continuous hold of the lock (it renews before writing it and gives up if the lock was
 * lost), and grooming marks from the records it lists after taking the lock. A crashed holder's lock expires, so a
 * crash blocks neither; a snapshot whose lock expired cannot complete.
 *
 * Deleting a snapshot is deleting its record (`deleteExpiredSnapshots`); its blocks go at the next grooming.
 */
import type { SnapshotRetention } from '@tidemark/domain';
import { referencedBlocks } from './manifest';
import type { LeftoversSwept, SnapshotRecord, SnapshotStore } from './snapshot-store';
import { applyRetention, type RetentionDecision } from './retention';
import { StoreLockBusyError } from './snapshot-errors';

export interface GroomOptions {
  readonly jobId: string;
  /** Lock owner, e.g. `groomer:<host>:<pid>`. */
  readonly owner: string;
  /** Records younger than this are marked whatever their state (default 1 h). */
  readonly graceMs?: number;
  readonly lockTtlMs?: number;
  /** Renew the lock when this much time passed since the last renewal (default a third of the TTL). */
  readonly renewEveryMs?: number;
  /** Report the bytes of the blocks deleted (the store knows them; default true). */
  readonly measureDeleted?: boolean;
  /** Unmarked blocks per `deleteBlocks` call (default {@link DELETE_BATCH}). */
  readonly batchSize?: number;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly clock?: () => number;
}

export interface GroomReport {
  readonly jobId: string;
  /** Records whose blocks were marked. */
  readonly recordsMarked: number;
  /** Distinct addresses the marked records name. */
  readonly referencedBlocks: number;
  /** Blocks found in the store. */
  readonly blocksListed: number;
  readonly blocksDeleted: number;
  /** The bytes of the blocks deleted, when measured (an s3 pack's object is freed with its last block). */
  readonly bytesDeleted?: number;
  /** What crashed writers had left, removed (`SnapshotStore.sweepLeftovers`; absent for a store without any). */
  readonly leftoversRemoved?: number;
  readonly leftoverBytes?: number;
  /** Set when the sweep stopped early because the lock was lost. */
  readonly stopped?: string;
}

export const DEFAULT_GROOM_GRACE_MS = 60 * 60_000;
/** Unmarked blocks deleted per `deleteBlocks` call. */
export const DELETE_BATCH = 256;

/** True when grooming must keep the record's blocks. */
export function protectsBlocks(record: SnapshotRecord, now: number, graceMs: number): boolean {
  if (record.state === 'complete' || record.state === 'in-progress') return true;
  return now - record.manifest.takenAt.getTime() < graceMs;
}

/** Grooms the job's blocks; throws {@link StoreLockBusyError} when the lock is held by another. */
export async function groom(store: SnapshotStore, options: GroomOptions): Promise<GroomReport> {
  const { jobId, owner } = options;
  const clock = options.clock ?? Date.now;
  const graceMs = options.graceMs ?? DEFAULT_GROOM_GRACE_MS;
  const ttl = options.lockTtlMs ?? 60_000;
  const renewEvery = options.renewEveryMs ?? ttl / 3;
  const measure = options.measureDeleted ?? true;
  const batchSize = options.batchSize ?? DELETE_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new RangeError(`groom: batchSize ${batchSize}`);
  const requestedAt = clock();
  const lock = await store.acquireLock(jobId, owner, ttl);
  if (lock === undefined) throw new StoreLockBusyError(jobId, 'groom');
  // The deadline is kept on this clock from just before each request (skew can only make grooming stop early).
  let deadline = requestedAt + ttl;
  try {
    const records = await store.listSnapshots(jobId);
    const now = clock();
    const marked = new Set<string>();
    let recordsMarked = 0;
    for (const record of records) {
      if (!protectsBlocks(record, now, graceMs)) continue;
      recordsMarked++;
      for (const address of referencedBlocks(record.manifest)) marked.add(address);
    }
    let blocksListed = 0;
    let blocksDeleted = 0;
    let bytesDeleted = 0;
    let lastRenew = requestedAt;
    let stopped: string | undefined;
    /** Renews the lock when due; false (and `stopped` set) once it is lost. */
    const stillHeld = async (): Promise<boolean> => {
      if (stopped !== undefined) return false;
      const now = clock();
      if (now - lastRenew >= renewEvery || now >= deadline) {
        const renewed = now < deadline ? await store.renewLock(jobId, owner, ttl) : undefined;
        if (renewed === undefined) {
          stopped = `the snapshot-store lock of ${owner} was lost`;
          return false;
        }
        lastRenew = now;
        deadline = now + ttl;
      }
      return true;
    };
    // Unmarked blocks go in batches (`deleteBlocks`), the lock checked before each.
    let batch: string[] = [];
    const deleteBatch = async (): Promise<boolean> => {
      if (!(await stillHeld())) return false;
      const { bytes } = await store.deleteBlocks(jobId, batch);
      bytesDeleted += bytes;
      blocksDeleted += batch.length;
      batch = [];
      return true;
    };
    for await (const address of store.listBlocks(jobId)) {
      blocksListed++;
      if (marked.has(address)) continue;
      batch.push(address);
      if (batch.length >= batchSize && !(await deleteBatch())) break;
    }
    if (stopped === undefined && batch.length > 0) await deleteBatch();
    // What crashed writers left (temporary files, objects no entry names), once as old as the grace period.
    let leftovers: LeftoversSwept | undefined;
    if (stopped === undefined && store.sweepLeftovers !== undefined) {
      leftovers = await store.sweepLeftovers(jobId, { olderThan: new Date(now - graceMs), stillHeld });
    }
    return {
      jobId,
      recordsMarked,
      referencedBlocks: marked.size,
      blocksListed,
      blocksDeleted,
      ...(measure ? { bytesDeleted } : {}),
      ...(leftovers === undefined
        ? {}
        : { leftoversRemoved: leftovers.removed, leftoverBytes: leftovers.bytes }),
      ...(stopped === undefined ? {} : { stopped }),
    };
  } finally {
    await store.releaseLock(jobId, owner);
  }
}

/**
 * Applies the job's retention (its schedule's `retention`) to its records: deletes the records of expired snapshots
 * (not their blocks: grooming removes those) and returns the decision.
 */
export async function deleteExpiredSnapshots(
  store: SnapshotStore,
  jobId: string,
  retention: SnapshotRetention,
  now: Date,
): Promise<RetentionDecision> {
  const records = await store.listSnapshots(jobId);
  const decision = applyRetention(
    records.map((r) => ({ snapshotId: r.manifest.snapshotId, takenAt: r.manifest.takenAt, state: r.state })),
    retention,
    now,
  );
  for (const { snapshotId } of decision.expire) await store.deleteSnapshot(jobId, snapshotId);
  return decision;
}
