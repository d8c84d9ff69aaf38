/**
 * Where a job's head database lives: source namespace `db.coll` of job J, sync number N is kept at
 * `th_J_N_db.coll` on the backup-side MongoDB (docs/pipeline.md). One module formats and parses these names.
 *
 * Database names are limited to 63 characters of `[A-Za-z0-9_-]` (FerretDB's rule, stricter than MongoDB's), so a
 * source database name that would not fit, or holds other characters, is shortened to its first 30 allowed
 * characters, `_`, and 8 hex digits of a hash of the full name. The mapping is deterministic and injective in
 * practice (a collision needs a 32-bit hash collision between two names sharing their first 30 characters).
 */
export const HEAD_DB_PREFIX = 'th_';
const MAX_DB_NAME = 63;

/** FNV-1a 32-bit, hex: enough to tell shortened names apart; not a security property. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export function headDatabasePrefix(jobId: string, syncNo: number): string {
  if (!/^[a-z0-9]{1,16}$/.test(jobId))
    throw new RangeError(`job id ${JSON.stringify(jobId)} is not [a-z0-9]{1,16}`);
  if (!Number.isSafeInteger(syncNo) || syncNo < 1) throw new RangeError(`sync number ${syncNo} must be >= 1`);
  return `${HEAD_DB_PREFIX}${jobId}_${syncNo}_`;
}

export function headDatabaseName(jobId: string, syncNo: number, sourceDb: string): string {
  const prefix = headDatabasePrefix(jobId, syncNo);
  const plain = `${prefix}${sourceDb}`;
  if (/^[A-Za-z0-9_-]+$/.test(sourceDb) && plain.length <= MAX_DB_NAME) return plain;
  const safe = sourceDb.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30);
  return `${prefix}${safe}_${fnv1a(sourceDb)}`;
}

/** The head namespace of a source namespace `db.coll`. */
export function headNamespace(jobId: string, syncNo: number, sourceNs: string): string {
  const dot = sourceNs.indexOf('.');
  if (dot <= 0 || dot === sourceNs.length - 1)
    throw new RangeError(`namespace "${sourceNs}" is not db.collection`);
  return `${headDatabaseName(jobId, syncNo, sourceNs.slice(0, dot))}.${sourceNs.slice(dot + 1)}`;
}

/** Splits `db.coll` at the first dot (collection names may contain dots, database names may not). */
export function splitNamespace(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  if (dot <= 0 || dot === ns.length - 1) throw new RangeError(`namespace "${ns}" is not db.collection`);
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

/** `<jobId>-s<syncNo>`: the id of a job's `syncNo`-th initial sync. */
export function syncIdOf(jobId: string, syncNo: number): string {
  headDatabasePrefix(jobId, syncNo); // validates both
  return `${jobId}-s${syncNo}`;
}

export function parseSyncId(syncId: string): { jobId: string; syncNo: number } {
  const m = /^([a-z0-9]{1,16})-s([1-9][0-9]{0,14})$/.exec(syncId);
  if (!m) throw new RangeError(`sync id ${JSON.stringify(syncId)} is not <jobId>-s<syncNo>`);
  return { jobId: m[1]!, syncNo: Number(m[2]) };
}
