/** Errors of the snapshot feature. */
import { TidemarkError, type CauseOption } from '@tidemark/domain';

/** A block a manifest names is not in the store. */
export class BlockMissingError extends TidemarkError {
  override readonly name: string = 'BlockMissingError';
  constructor(
    readonly jobId: string,
    readonly address: string,
    readonly location: string,
  ) {
    super(`block ${address} of job ${jobId} is missing (${location})`, { retriable: false });
  }
}

/**
 * A block's bytes are not what its address says: a bad header, a failed authentication tag (damaged, or encrypted
 * under another key), a truncated or undecompressable payload, or plain bytes whose hash is not the address. The
 * block is never used. Not retriable: reading it again gives the same bytes.
 */
export class BlockDamagedError extends TidemarkError {
  override readonly name: string = 'BlockDamagedError';
  readonly address: string;
  /** What is wrong, in words (never key material). */
  readonly reason: string;
  readonly jobId: string | undefined;
  /** Where the block lives (the store's `blockLocation`), when known. */
  readonly location: string | undefined;

  constructor(details: { address: string; reason: string; jobId?: string; location?: string } & CauseOption) {
    super(
      `block ${details.address}${details.jobId === undefined ? '' : ` of job ${details.jobId}`} is damaged: ` +
        `${details.reason}${details.location === undefined ? '' : ` (${details.location})`}`,
      { retriable: false, cause: details.cause },
    );
    this.address = details.address;
    this.reason = details.reason;
    this.jobId = details.jobId;
    this.location = details.location;
  }
}

/**
 * An encryption key could not be loaded, is not the one a snapshot names, or is needed and absent. The message names
 * the source (environment variable, file) and the problem, never the key or any part of it. Not retriable.
 */
export class EncryptionKeyError extends TidemarkError {
  override readonly name: string = 'EncryptionKeyError';
  constructor(message: string, options: CauseOption = {}) {
    super(message, { retriable: false, cause: options.cause });
  }
}

/**
 * A serialized manifest is not a valid one: it does not parse, a field is missing or of the wrong type or range, or
 * its checksum does not match. `problems` lists every problem found (each naming the field's path). Not retriable.
 */
export class ManifestInvalidError extends TidemarkError {
  override readonly name: string = 'ManifestInvalidError';
  readonly problems: readonly string[];
  /** The snapshot, when the manifest got far enough to name it. */
  readonly snapshotId: string | undefined;

  constructor(problems: readonly string[], details: { snapshotId?: string } & CauseOption = {}) {
    super(
      `invalid snapshot manifest${details.snapshotId === undefined ? '' : ` ${details.snapshotId}`}: ` +
        problems.join('; '),
      { retriable: false, cause: details.cause },
    );
    this.problems = [...problems];
    this.snapshotId = details.snapshotId;
  }
}

/**
 * A snapshot could not be started now: another holder has the job's snapshot lock, the apply fence could not be had
 * in time, or the head has no applied position yet. Retriable: trying later can succeed.
 */
export class SnapshotUnavailableError extends TidemarkError {
  override readonly name: string = 'SnapshotUnavailableError';
  readonly jobId: string;
  readonly reason: string;

  constructor(jobId: string, reason: string, options: CauseOption = {}) {
    super(`cannot snapshot job ${jobId} now: ${reason}`, { retriable: true, cause: options.cause });
    this.jobId = jobId;
    this.reason = reason;
  }
}

/**
 * A namespace read back from a snapshot is not what its manifest says (its blocks each decoded, but together they
 * are not whole BSON documents, or their hash or count differs): the manifest and its blocks disagree. Not retriable.
 */
export class SnapshotDamagedError extends TidemarkError {
  override readonly name: string = 'SnapshotDamagedError';
  readonly jobId: string;
  readonly snapshotId: string;
  readonly namespace: string;
  readonly reason: string;

  constructor(
    details: { jobId: string; snapshotId: string; namespace: string; reason: string } & CauseOption,
  ) {
    super(
      `snapshot ${details.snapshotId} of job ${details.jobId}, namespace ${details.namespace}: ${details.reason}`,
      { retriable: false, cause: details.cause },
    );
    this.jobId = details.jobId;
    this.snapshotId = details.snapshotId;
    this.namespace = details.namespace;
    this.reason = details.reason;
  }
}

/** Another holder has the job's snapshot-store lock (a snapshot or grooming is running). Retriable: try later. */
export class StoreLockBusyError extends TidemarkError {
  override readonly name: string = 'StoreLockBusyError';
  readonly jobId: string;
  readonly purpose: string;

  constructor(jobId: string, purpose: string) {
    super(`cannot ${purpose} job ${jobId} now: another holder has its snapshot-store lock`, {
      retriable: true,
    });
    this.jobId = jobId;
    this.purpose = purpose;
  }
}
