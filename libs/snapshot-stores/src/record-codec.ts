/**
 * The stored forms shared by the three stores (docs/format.md, "Snapshot stores"): the format versions of every
 * record they write, the snapshot record's manifest as JSON, and the checks a record read back must pass.
 *
 * The manifest is kept as **relaxed Extended JSON v2** (`bson`'s `EJSON`): plain JSON for strings, numbers, arrays
 * and objects; dates as `{"$date": "<ISO-8601>"}`; BSON values a collection's options or index specs may hold
 * (`Decimal128`, `ObjectId`, regular expressions) in their EJSON wrappers. The same text is a file's `manifest` and
 * MongoDB's `manifest` string, so a record moves between stores unchanged. (A string, not a subdocument, in
 * MongoDB: index keys hold dots and validators `$` operators, which a field name may not on every server.)
 *
 * What is read back is untrusted. A store checks what it needs itself (the version first, then `jobId`,
 * `snapshotId`, `state`, `takenAt` and that they agree with where the record is); the manifest's full validation
 * belongs to `@tidemark/snapshots`.
 */
import { EJSON } from 'bson';
import { recordFormat, showValue } from '@tidemark/domain';
import {
  SNAPSHOT_STATES,
  type SnapshotManifest,
  type SnapshotRecord,
  type SnapshotState,
} from '@tidemark/snapshots';
import { SnapshotRecordInvalidError } from './store-errors';
import { checkJobId, checkSnapshotId, isJobId, isSnapshotId } from './store-keys';

/** A snapshot record (MongoDB `snapshots` document, or `<jobId>/snapshots/<snapshotId>.json`). */
export const SNAPSHOT_RECORD_FORMAT = recordFormat('snapshot record', 1);
/** The job's snapshot lock (MongoDB `snapshot_locks` document, or a filesystem lock generation file). */
export const SNAPSHOT_LOCK_FORMAT = recordFormat('snapshot lock', 1);
/** A block document of the blockstore (`snapshot_blocks`). */
export const BLOCK_FORMAT = recordFormat('snapshot block', 1);
/** A part of a block too large for one document (`snapshot_block_parts`). */
export const BLOCK_PART_FORMAT = recordFormat('snapshot block part', 1);
/**
 * The S3 store's index entry of a block (`snapshot_block_objects`). Version 2 added `offset`: the block is that range
 * of a pack object. A build that reads only version 1 would take a pack for the block and must refuse it instead.
 */
export const BLOCK_OBJECT_FORMAT = recordFormat('snapshot block object', 2, [1, 2]);

/** A record's fields as the stores keep them, before its manifest is parsed. */
export interface StoredRecordFields {
  readonly jobId: unknown;
  readonly snapshotId: unknown;
  readonly state: unknown;
  readonly reason?: unknown;
  /** Relaxed EJSON: text (MongoDB) or the parsed JSON value (files). */
  readonly manifest: unknown;
}

/** Checks a record before it is written: the ids are valid and `takenAt` is a date. Returns the ids. */
export function checkRecordToWrite(record: SnapshotRecord): { jobId: string; snapshotId: string } {
  const m = record.manifest;
  const jobId = checkJobId(m.jobId);
  const snapshotId = checkSnapshotId(m.snapshotId);
  if (!(SNAPSHOT_STATES as readonly unknown[]).includes(record.state)) {
    throw new RangeError(`snapshot ${snapshotId}: unknown state ${JSON.stringify(record.state)}`);
  }
  if (!(m.takenAt instanceof Date) || Number.isNaN(m.takenAt.getTime())) {
    throw new RangeError(`snapshot ${snapshotId}: manifest.takenAt must be a valid Date`);
  }
  if (record.reason !== undefined && typeof record.reason !== 'string') {
    throw new RangeError(`snapshot ${snapshotId}: reason must be a string`);
  }
  return { jobId, snapshotId };
}

/** The manifest as relaxed EJSON (a JSON value). */
export function manifestToJson(manifest: SnapshotManifest): Record<string, unknown> {
  return EJSON.serialize(manifest, { relaxed: true }) as Record<string, unknown>;
}

/** The manifest as relaxed EJSON text. */
export function manifestToText(manifest: SnapshotManifest): string {
  return EJSON.stringify(manifest, { relaxed: true });
}

/**
 * Builds the record from its stored fields and checks it: `where` names it in errors; `expected` are the ids the
 * caller looked it up by (absent when listing, then the job's id only).
 */
export function recordFromStored(
  fields: StoredRecordFields,
  where: string,
  expected: { jobId: string; snapshotId?: string },
): SnapshotRecord {
  const bad = (reason: string, cause?: unknown) =>
    new SnapshotRecordInvalidError(where, reason, cause === undefined ? {} : { cause });
  if (!isJobId(fields.jobId)) throw bad(`jobId ${showValue(fields.jobId)} is not a job id`);
  if (!isSnapshotId(fields.snapshotId))
    throw bad(`snapshotId ${showValue(fields.snapshotId)} is not a snapshot id`);
  if (fields.jobId !== expected.jobId) throw bad(`jobId ${fields.jobId} is not ${expected.jobId}`);
  if (expected.snapshotId !== undefined && fields.snapshotId !== expected.snapshotId) {
    throw bad(`snapshotId ${fields.snapshotId} is not ${expected.snapshotId}`);
  }
  if (!(SNAPSHOT_STATES as readonly unknown[]).includes(fields.state)) {
    throw bad(`state ${showValue(fields.state)} is not one of ${SNAPSHOT_STATES.join(', ')}`);
  }
  if (fields.reason !== undefined && typeof fields.reason !== 'string') throw bad('reason is not a string');

  let manifest: unknown;
  try {
    manifest =
      typeof fields.manifest === 'string'
        ? EJSON.parse(fields.manifest, { relaxed: true })
        : EJSON.deserialize(fields.manifest as never, { relaxed: true });
  } catch (err) {
    throw bad('manifest is not Extended JSON', err);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw bad('manifest is not an object');
  }
  const m = manifest as Record<string, unknown>;
  if (m['jobId'] !== fields.jobId)
    throw bad(`manifest.jobId ${showValue(m['jobId'])} is not ${fields.jobId}`);
  if (m['snapshotId'] !== fields.snapshotId) {
    throw bad(`manifest.snapshotId ${showValue(m['snapshotId'])} is not ${fields.snapshotId}`);
  }
  const takenAt = m['takenAt'];
  if (!(takenAt instanceof Date) || Number.isNaN(takenAt.getTime()))
    throw bad('manifest.takenAt is not a date');
  const state = fields.state as SnapshotState;
  const record = { state, manifest: manifest as unknown as SnapshotManifest };
  return fields.reason === undefined ? record : { ...record, reason: fields.reason as string };
}

/** Newest `takenAt` first; ties by snapshot id, so the order is stable. */
export function newestFirst(a: SnapshotRecord, b: SnapshotRecord): number {
  const d = b.manifest.takenAt.getTime() - a.manifest.takenAt.getTime();
  if (d !== 0) return d;
  return a.manifest.snapshotId < b.manifest.snapshotId
    ? -1
    : a.manifest.snapshotId > b.manifest.snapshotId
      ? 1
      : 0;
}
