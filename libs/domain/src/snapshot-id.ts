/**
 * Snapshot ids: `<jobId>-<UTC time as YYYYMMDDTHHMMSSZ>-<4 random [a-z0-9]>`, e.g. `k3x9a0b2-20261203T120000Z-7q2m`.
 * They sort by time within a job, name their job (so `snapshot verify ID` needs no job id), and use only
 * `[A-Za-z0-9-]`, which every snapshot store accepts as a key or file name.
 */
import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SNAPSHOT_ID = /^([a-z0-9]{1,64})-(\d{8}T\d{6}Z)-([a-z0-9]{4})$/;

/** A new snapshot id of `jobId` at `at`. */
export function newSnapshotId(
  jobId: string,
  at: Date,
  random: () => number = () => randomInt(ALPHABET.length),
): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  let suffix = '';
  for (let n = 0; n < 4; n++) suffix += ALPHABET[random()] ?? 'a';
  return `${jobId}-${stamp}-${suffix}`;
}

/** The job a snapshot id names, or undefined when it is not a snapshot id. */
export function jobIdOfSnapshot(snapshotId: string): string | undefined {
  return SNAPSHOT_ID.exec(snapshotId)?.[1];
}

export function isSnapshotId(value: unknown): value is string {
  return typeof value === 'string' && SNAPSHOT_ID.test(value);
}
