/**
 * `FileSystemSnapshotStore` (`filesystem`): a job's snapshots as files under a root directory (docs/format.md,
 * "Snapshot stores"):
 *
 * ```
 * <root>/<jobId>/blocks/<address[0..2]>/<address>     a block's bytes
 * <root>/<jobId>/snapshots/<snapshotId>.json          a snapshot record (JSON, `v: 1`)
 * <root>/<jobId>/lock/<generation>                    the job's snapshot lock: generation files (JSON, `v: 1`)
 * ```
 *
 * Names: job ids, snapshot ids and addresses are checked against `store-keys.ts` before any path is built (no `/`,
 * no `..`, no NUL, bounded length), and every path is checked to stay under the root.
 *
 * Atomic writes: a file is written under a temporary name in its own directory (`.<name>.tmp-<random>`, which no
 * reader ever takes for a block, record or lock), fsynced, then given its name, and the directory is fsynced. A block
 * gets its name with `link(2)`, which fails when the name exists: the first bytes stay, and two concurrent puts of
 * one address store one block. A record gets its name with `rename(2)`, which replaces the old record whole. A crash
 * leaves at most a temporary file, never a partial block or record; grooming removes temporary files once they are
 * older than its grace period (`sweepLeftovers`).
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError, checkRecordVersion } from '@tidemark/domain';
import { fsyncDir, isProgrammingError } from '@tidemark/util';
import {
  BlockMissingError,
  type SnapshotRecord,
  type BlockToStore,
  type LeftoversSwept,
  type SnapshotStore,
  type SweepLeftoversOptions,
  type StoreLockGrant,
} from '@tidemark/snapshots';
import { errnoCode, fsFailure } from './fs-errors';
import {
  acquireLock,
  releaseLock,
  renewLock,
  type LockGeneration,
  type LockGenerations,
} from './generation-lock';
import {
  SNAPSHOT_LOCK_FORMAT,
  SNAPSHOT_RECORD_FORMAT,
  checkRecordToWrite,
  manifestToJson,
  newestFirst,
  recordFromStored,
} from './record-codec';
import { SnapshotRecordInvalidError, SnapshotStoreUnavailableError } from './store-errors';
import { checkAddress, checkJobId, checkSnapshotId, isAddress, isSnapshotId } from './store-keys';

export interface FileSystemSnapshotStoreOptions {
  /** The store's root directory (created on first write). */
  readonly root: string;
  /** The clock lock expiries are computed and compared with. Default `Date.now`. */
  readonly clock?: () => number;
}

/** A temporary file's name (`writeTemp`): `.<name>.tmp-<16 hex digits>`. */
const TEMPORARY = /^\..+\.tmp-[0-9a-f]{16}$/;
/** A job directory on its way out (`deleteJob`): `.deleted-<jobId>-<12 hex digits>`. */
const DELETED_PREFIX = '.deleted-';
const DELETED_SUFFIX = /^[0-9a-f]{12}$/;

/** A lock generation file's name: a positive decimal integer. */
const GENERATION = /^[1-9][0-9]{0,14}$/;

export class FileSystemSnapshotStore implements SnapshotStore {
  readonly kind = 'filesystem' as const;
  readonly root: string;
  private readonly clock: () => number;
  /** Block fan-out directories this store made or found there (a block write then needs no `mkdir`). */
  private readonly blockDirs = new Set<string>();

  constructor(options: FileSystemSnapshotStoreOptions) {
    this.root = path.resolve(options.root);
    this.clock = options.clock ?? Date.now;
  }

  // ---- blocks ------------------------------------------------------------------------------------------------

  async putBlock(jobId: string, address: string, bytes: Uint8Array): Promise<void> {
    const file = this.blockPath(jobId, address);
    await this.guard('putBlock', file, async () => {
      if (await isFile(file)) return;
      await this.writeBlock(file, bytes);
    });
  }

  /**
   * Each block written and synced on its own (files have no batch write), all at once. No existence check first, as
   * `putBlock` makes: a snapshot puts only blocks `hasBlocks` did not find, and `link(2)` keeps the first bytes of a
   * block that is there after all.
   */
  async putBlocks(jobId: string, blocks: readonly BlockToStore[]): Promise<void> {
    await Promise.all(
      blocks.map((b) => {
        const file = this.blockPath(jobId, b.address);
        return this.guard('putBlock', file, () => this.writeBlock(file, b.bytes));
      }),
    );
  }

  /** Writes a block's file whole (temporary file, fsync, `link(2)`, directory fsync); an existing one stays. */
  private async writeBlock(file: string, bytes: Uint8Array): Promise<void> {
    const dir = path.dirname(file);
    let tmp: string;
    try {
      await this.ensureBlockDir(dir);
      tmp = await writeTemp(dir, path.basename(file), bytes);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      // The directory went after this store made it (the job was deleted meanwhile, or by hand): made again.
      this.blockDirs.delete(dir);
      await this.ensureBlockDir(dir);
      tmp = await writeTemp(dir, path.basename(file), bytes);
    }
    try {
      await fsp.link(tmp, file);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err; // another put stored it first: its bytes stay
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    await fsyncDir(dir);
  }

  /** A block fan-out directory, made once per store (a `mkdir` per block cost as much as the block's write). */
  private async ensureBlockDir(dir: string): Promise<void> {
    if (this.blockDirs.has(dir)) return;
    await this.ensureDir(dir);
    this.blockDirs.add(dir);
  }

  async hasBlocks(jobId: string, addresses: readonly string[]): Promise<Set<string>> {
    const found = await Promise.all(addresses.map((a) => this.hasBlock(jobId, a)));
    return new Set(addresses.filter((_, k) => found[k]));
  }

  async hasBlock(jobId: string, address: string): Promise<boolean> {
    const file = this.blockPath(jobId, address);
    return this.guard('hasBlock', file, () => isFile(file));
  }

  async getBlock(jobId: string, address: string): Promise<Uint8Array> {
    const file = this.blockPath(jobId, address);
    return this.guard('getBlock', file, async () => {
      try {
        return await fsp.readFile(file);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') throw new BlockMissingError(jobId, address, file);
        throw err;
      }
    });
  }

  async deleteBlock(jobId: string, address: string): Promise<void> {
    await this.deleteBlocks(jobId, [address]);
  }

  /** Each block's file unlinked, all at once; then each directory they were in fsynced once. */
  async deleteBlocks(jobId: string, addresses: readonly string[]): Promise<{ bytes: number }> {
    const files = addresses.map((a) => this.blockPath(jobId, a));
    /** The size of each file unlinked; undefined when there was none. */
    const sizes = await Promise.all(
      files.map((file) =>
        this.guard('deleteBlock', file, async () => {
          const stat = await lstatIfAny(file);
          if (stat === undefined) return undefined;
          try {
            await fsp.unlink(file);
          } catch (err) {
            if (errnoCode(err) === 'ENOENT') return undefined;
            throw err;
          }
          return stat.size;
        }),
      ),
    );
    const dirs = new Set(files.filter((_, k) => sizes[k] !== undefined).map((file) => path.dirname(file)));
    await Promise.all([...dirs].map((dir) => this.guard('deleteBlock', dir, () => fsyncDir(dir))));
    return { bytes: sizes.reduce<number>((a, b) => a + (b ?? 0), 0) };
  }

  async *listBlocks(jobId: string): AsyncIterable<string> {
    for (const dir of await this.fanOutDirs('listBlocks', jobId)) {
      const fan = path.basename(dir);
      const names = await this.guard('listBlocks', dir, () => readDirIfAny(dir));
      // Only names that are addresses, in the right fan-out directory: temporary files are not blocks.
      for (const name of names) if (isAddress(name) && name.startsWith(fan)) yield name;
    }
  }

  blockLocation(jobId: string, address: string): string {
    return this.blockPath(jobId, address);
  }

  // ---- snapshot records --------------------------------------------------------------------------------------

  async putSnapshot(record: SnapshotRecord): Promise<void> {
    const { jobId, snapshotId } = checkRecordToWrite(record);
    const file = this.recordPath(jobId, snapshotId);
    const doc = {
      v: SNAPSHOT_RECORD_FORMAT.current,
      jobId,
      snapshotId,
      state: record.state,
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      takenAt: record.manifest.takenAt.toISOString(),
      manifest: manifestToJson(record.manifest),
    };
    await this.guard('putSnapshot', file, async () => {
      const dir = path.dirname(file);
      await this.ensureDir(dir);
      const tmp = await writeTemp(dir, path.basename(file), Buffer.from(`${JSON.stringify(doc, null, 2)}\n`));
      try {
        await fsp.rename(tmp, file); // replaces the old record whole
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
      await fsyncDir(dir);
    });
  }

  async getSnapshot(jobId: string, snapshotId: string): Promise<SnapshotRecord | undefined> {
    const file = this.recordPath(jobId, snapshotId);
    return this.guard('getSnapshot', file, () => this.readRecord(file, jobId, snapshotId));
  }

  async listSnapshots(jobId: string): Promise<SnapshotRecord[]> {
    const dir = this.inRoot(checkJobId(jobId), 'snapshots');
    const names = await this.guard('listSnapshots', dir, () => readDirIfAny(dir));
    const records: SnapshotRecord[] = [];
    for (const name of names) {
      const snapshotId = name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined;
      if (snapshotId === undefined || !isSnapshotId(snapshotId)) continue; // temporary files
      const file = path.join(dir, name);
      const record = await this.guard('listSnapshots', file, () => this.readRecord(file, jobId, snapshotId));
      if (record) records.push(record); // undefined: deleted since the listing
    }
    return records.sort(newestFirst);
  }

  async deleteSnapshot(jobId: string, snapshotId: string): Promise<void> {
    const file = this.recordPath(jobId, snapshotId);
    await this.guard('deleteSnapshot', file, () => unlinkDurably(file));
  }

  // ---- the job's snapshot lock: generation files `lock/<n>` (generation-lock.ts) -------------------------------

  async acquireLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    const gens = this.lockGenerations(jobId);
    return this.guard('acquireLock', gens.location, () => acquireLock(gens, jobId, owner, ttlMs, this.clock));
  }

  async renewLock(jobId: string, owner: string, ttlMs: number): Promise<StoreLockGrant | undefined> {
    const gens = this.lockGenerations(jobId);
    return this.guard('renewLock', gens.location, () => renewLock(gens, jobId, owner, ttlMs, this.clock));
  }

  async releaseLock(jobId: string, owner: string): Promise<void> {
    const gens = this.lockGenerations(jobId);
    await this.guard('releaseLock', gens.location, () => releaseLock(gens, owner));
  }

  // ---- the job -----------------------------------------------------------------------------------------------

  async deleteJob(jobId: string): Promise<void> {
    const dir = this.inRoot(checkJobId(jobId));
    for (const made of this.blockDirs) if (made.startsWith(dir + path.sep)) this.blockDirs.delete(made);
    await this.guard('deleteJob', dir, async () => {
      // Out of sight in one rename (a name no job id can have), then removed: a crash in between leaves a
      // `.deleted-<jobId>-*` directory, never a job with some of its files gone; terminating again removes it.
      const doomed = path.join(this.root, `${DELETED_PREFIX}${jobId}-${randomBytes(6).toString('hex')}`);
      try {
        await fsp.rename(dir, doomed);
        await fsyncDir(this.root);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
      for (const name of await readDirIfAny(this.root)) {
        if (
          name.startsWith(`${DELETED_PREFIX}${jobId}-`) &&
          DELETED_SUFFIX.test(name.slice(DELETED_PREFIX.length + jobId.length + 1))
        ) {
          await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
        }
      }
    });
  }

  /**
   * Removes the temporary files (`.<name>.tmp-<hex>`) older than `olderThan` from the job's block fan-out,
   * records and lock directories: what a writer killed between writing a file and naming it left. Nothing reads
   * them; a writer still alive renames or links its file within one call, long before the grace period ends.
   */
  async sweepLeftovers(jobId: string, options: SweepLeftoversOptions): Promise<LeftoversSwept> {
    const job = this.inRoot(checkJobId(jobId));
    const cutoff = options.olderThan.getTime();
    const dirs = [
      ...(await this.fanOutDirs('sweepLeftovers', jobId)),
      path.join(job, 'snapshots'),
      path.join(job, 'lock'),
    ];
    let removed = 0;
    let bytes = 0;
    for (const dir of dirs) {
      const names = await this.guard('sweepLeftovers', dir, () => readDirIfAny(dir));
      for (const name of names) {
        if (!TEMPORARY.test(name)) continue;
        const file = path.join(dir, name);
        const stat = await this.guard('sweepLeftovers', file, () => lstatIfAny(file));
        if (stat === undefined || !stat.isFile() || stat.mtimeMs >= cutoff) continue;
        if (!(await options.stillHeld())) return { removed, bytes, stopped: true };
        await this.guard('sweepLeftovers', file, () => fsp.rm(file, { force: true }));
        removed++;
        bytes += stat.size;
      }
    }
    return { removed, bytes };
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  /** The job's block fan-out directories (`blocks/<aa>`, two hex digits; other names are not the store's), sorted. */
  private async fanOutDirs(operation: string, jobId: string): Promise<string[]> {
    const blocks = this.inRoot(checkJobId(jobId), 'blocks');
    const fans = await this.guard(operation, blocks, () => readDirIfAny(blocks));
    return fans
      .filter((fan) => /^[0-9a-f]{2}$/.test(fan))
      .sort()
      .map((fan) => path.join(blocks, fan));
  }

  private blockPath(jobId: string, address: string): string {
    checkJobId(jobId);
    checkAddress(address);
    return this.inRoot(jobId, 'blocks', address.slice(0, 2), address);
  }

  private recordPath(jobId: string, snapshotId: string): string {
    checkJobId(jobId);
    checkSnapshotId(snapshotId);
    return this.inRoot(jobId, 'snapshots', `${snapshotId}.json`);
  }

  /** `<root>/<parts...>`, refusing anything that would not stay under the root (defence in depth). */
  private inRoot(...parts: string[]): string {
    const p = path.resolve(this.root, ...parts);
    if (!p.startsWith(this.root + path.sep)) {
      throw new SnapshotStoreUnavailableError('resolve', p, `path escapes the store root ${this.root}`, {
        retriable: false,
      });
    }
    return p;
  }

  private async readRecord(
    file: string,
    jobId: string,
    snapshotId: string,
  ): Promise<SnapshotRecord | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const doc = parseJsonObject(text, file);
    checkRecordVersion(SNAPSHOT_RECORD_FORMAT, doc, file);
    const record = recordFromStored(
      {
        jobId: doc['jobId'],
        snapshotId: doc['snapshotId'],
        state: doc['state'],
        reason: doc['reason'],
        manifest: doc['manifest'],
      },
      file,
      { jobId, snapshotId },
    );
    if (doc['takenAt'] !== record.manifest.takenAt.toISOString()) {
      throw new SnapshotRecordInvalidError(file, 'takenAt disagrees with manifest.takenAt');
    }
    return record;
  }

  private lockGenerations(jobId: string): LockGenerations {
    const dir = this.inRoot(checkJobId(jobId), 'lock');
    return {
      location: dir,
      current: () => this.readLock(dir),
      highest: async () => highestGeneration(await readDirIfAny(dir)),
      create: (state) => this.createLockGeneration(dir, jobId, state),
      pruneBelow: async (generation) => {
        for (const n of await readDirIfAny(dir)) {
          if (GENERATION.test(n) && Number(n) < generation) await fsp.rm(path.join(dir, n), { force: true });
        }
      },
    };
  }

  /** The lock's state: its highest generation (listed again when that one was pruned meanwhile). */
  private async readLock(dir: string): Promise<LockGeneration> {
    for (;;) {
      const generation = highestGeneration(await readDirIfAny(dir));
      if (generation === 0) return { generation, owner: undefined, expiresAt: 0 };
      const file = path.join(dir, String(generation));
      let text: string;
      try {
        text = await fsp.readFile(file, 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      const doc = parseJsonObject(text, file);
      checkRecordVersion(SNAPSHOT_LOCK_FORMAT, doc, file);
      const owner = doc['owner'];
      if (owner === null) return { generation, owner: undefined, expiresAt: 0 };
      const expiresAt = typeof doc['expiresAt'] === 'string' ? Date.parse(doc['expiresAt']) : NaN;
      if (typeof owner !== 'string' || Number.isNaN(expiresAt)) {
        throw new SnapshotRecordInvalidError(
          file,
          'a lock needs owner (string or null) and expiresAt (ISO date)',
        );
      }
      return { generation, owner, expiresAt };
    }
  }

  /** Creates the generation file whole (temporary file, fsync, `link(2)`); false when it exists. */
  private async createLockGeneration(dir: string, jobId: string, state: LockGeneration): Promise<boolean> {
    const doc = {
      v: SNAPSHOT_LOCK_FORMAT.current,
      jobId,
      owner: state.owner ?? null,
      expiresAt: state.owner === undefined ? null : new Date(state.expiresAt).toISOString(),
    };
    await this.ensureDir(dir);
    const name = String(state.generation);
    const tmp = await writeTemp(dir, name, Buffer.from(`${JSON.stringify(doc)}\n`));
    try {
      await fsp.link(tmp, path.join(dir, name));
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    await fsyncDir(dir);
    return true;
  }

  /** Creates `dir` and its missing parents, fsyncing the parent of each directory it created. */
  private async ensureDir(dir: string): Promise<void> {
    const created = await fsp.mkdir(dir, { recursive: true });
    if (created === undefined) return;
    for (let d = dir; ; d = path.dirname(d)) {
      await fsyncDir(path.dirname(d));
      if (d === created || d === this.root) break;
    }
  }

  /** Runs `fn`; a filesystem error becomes `SnapshotStoreUnavailableError`, Tidemark's own errors pass. */
  private async guard<T>(operation: string, location: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TidemarkError || isProgrammingError(err)) throw err;
      throw fsFailure(operation, location, err);
    }
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

async function readDirIfAny(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

function highestGeneration(names: readonly string[]): number {
  let max = 0;
  for (const n of names) if (GENERATION.test(n)) max = Math.max(max, Number(n));
  return max;
}

/** Writes `bytes` to a new temporary file in `dir` (named after `name`), fsynced; returns its path. */
async function writeTemp(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const tmp = path.join(dir, `.${name}.tmp-${randomBytes(8).toString('hex')}`);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  return tmp;
}

async function lstatIfAny(file: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes `file` if it is there, and makes the removal durable (its directory fsynced). */
async function unlinkDurably(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SnapshotRecordInvalidError(where, 'not JSON (a torn or foreign file?)', { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SnapshotRecordInvalidError(where, 'not a JSON object');
  }
  return doc as Record<string, unknown>;
}
