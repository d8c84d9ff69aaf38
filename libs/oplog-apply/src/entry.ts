/**
 * Oplog entries as MongoDB documents them (`local.oplog.rs`), typed, and their validation.
 *
 * `validateEntry` checks an untrusted value (decoded by the driver, by `EJSON.parse`, or from a slice) and returns a
 * typed {@link OplogEntry}, or throws {@link MalformedOplogEntryError} naming the field. Int64 fields (`t`, `h`,
 * `txnNumber`) become `bigint`; small integers (`v`, `stmtId`) become `number`. Fields this library does not use
 * (`_id` written by FerretDB, `fromMigrate`, `b`, `prepare` at top level, ...) are tolerated and ignored.
 *
 * Ops nested in an `applyOps` command have the same shape without `ts`, `t`, `v` and the session fields
 * ({@link OplogOperation}); `validateOperation` checks them.
 */
import type { Binary, Document, Timestamp } from 'bson';
import { formatOpTime } from '@tidemark/domain';
import {
  bsonTypeOf,
  integerValue,
  isDocumentValue,
  isTimestamp,
  safeIntegerValue,
  timestampToOpTime,
} from './bson-values';
import { MalformedOplogEntryError } from './errors';

/** The op types the applier acts on: insert, update, delete, command, no-op. */
export const APPLIED_OP_TYPES = ['i', 'u', 'd', 'c', 'n'] as const;

/**
 * Op types that change no user data, each with the reason it is skipped (mongo-tools' `ignoredOps`).
 * Any op type in neither list is malformed: it is rejected, never skipped.
 */
export const IGNORED_OP_TYPES: Readonly<Record<string, string>> = Object.freeze({
  n: 'no-op: written for heartbeats, "new primary" messages and retryable-write images; it changes no data',
  db: 'obsolete "declare database" op of old servers; databases are created by their first collection',
  cd: 'internal bookkeeping written when replicated record ids are enabled; not user data (mongo-tools skips it)',
  ci: 'internal bookkeeping written when replicated record ids are enabled; not user data (mongo-tools skips it)',
  cu: 'internal bookkeeping written when replicated record ids are enabled; not user data (mongo-tools skips it)',
  km: 'internal bookkeeping written when replicated record ids are enabled; not user data (mongo-tools skips it)',
});

/** Every op type an entry may have. */
export type OplogOpType = (typeof APPLIED_OP_TYPES)[number] | 'db' | 'cd' | 'ci' | 'cu' | 'km';

/** One operation: a top-level entry's payload, or an op nested in `applyOps`. */
export interface OplogOperation {
  readonly op: OplogOpType;
  /** `db.collection`; `db.$cmd` for commands; `admin.$cmd` for `applyOps`/`renameCollection`; `''` for some no-ops. */
  readonly ns: string;
  /** The collection's UUID. Not used: the applier addresses collections by (mapped) name, like mongo-tools. */
  readonly ui?: Binary;
  /** The document (i), the update (u), the `_id` filter (d), the command (c), or a message (n). */
  readonly o: Document;
  /** For `u`: the `_id` (and, on sharded clusters, the shard key) of the updated document. */
  readonly o2?: Document;
}

/** The empty `prevOpTime` a transaction's first entry carries: `{ ts: Timestamp(0, 0), t: -1 }`. */
export interface PrevOpTime {
  readonly ts: Timestamp;
  readonly t: bigint;
}

/** A top-level oplog entry. */
export interface OplogEntry extends OplogOperation {
  /** The entry's position (seconds, increment). */
  readonly ts: Timestamp;
  /** The election term (absent on very old servers and on FerretDB). */
  readonly t?: bigint;
  /** The entry hash of servers before 4.2. */
  readonly h?: bigint;
  /** The oplog format version; MongoDB writes 2. Absent on FerretDB. */
  readonly v?: number;
  readonly wall?: Date;
  /** Logical session of a retryable write or transaction. */
  readonly lsid?: Document;
  readonly txnNumber?: bigint;
  readonly stmtId?: number | readonly number[];
  /** The previous entry of the same transaction (a chain of `applyOps` entries). */
  readonly prevOpTime?: PrevOpTime;
  /** Some tools copy `o.partialTxn` here; MongoDB writes it inside `o` (`{ applyOps: [...], partialTxn: true }`). */
  readonly partialTxn?: boolean;
}

/** Where a problem sits, for messages: the entry timestamp and the path to the op. */
interface Where {
  readonly ts?: Timestamp;
  readonly path: string;
}

function fail(where: Where, field: string, reason: string): never {
  const at = where.ts === undefined ? '' : ` (entry ${formatOpTime(timestampToOpTime(where.ts))})`;
  throw new MalformedOplogEntryError(`${reason}${at}`, { field: `${where.path}${field}` });
}

function isOpType(value: unknown): value is OplogOpType {
  return (
    typeof value === 'string' &&
    ((APPLIED_OP_TYPES as readonly string[]).includes(value) || Object.hasOwn(IGNORED_OP_TYPES, value))
  );
}

function int64Field(raw: Document, field: string, where: Where): bigint | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  const result = integerValue(value);
  if (result === undefined) {
    fail(where, field, `"${field}" must be an integer (Int64), got ${describe(value)}`);
  }
  return result;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const tag = bsonTypeOf(value);
  if (tag !== undefined) return `a ${tag}`;
  if (value instanceof Date) return 'a date';
  return `a ${typeof value}`;
}

/**
 * Checks one operation (top-level entry or op nested in `applyOps`) and returns it typed.
 * `where.path` prefixes field names in messages (e.g. `o.applyOps[2].`).
 */
export function validateOperation(raw: unknown, where: Where = { path: '' }): OplogOperation {
  if (!isDocumentValue(raw)) fail(where, '', `an oplog operation must be a document, got ${describe(raw)}`);
  const op = raw['op'];
  if (!isOpType(op)) {
    fail(
      where,
      'op',
      `unknown op type ${JSON.stringify(op)} (known: i, u, d, c, n and the skipped ${Object.keys(IGNORED_OP_TYPES).join(', ')})`,
    );
  }
  const ns = raw['ns'];
  if (typeof ns !== 'string') fail(where, 'ns', `"ns" must be a string, got ${describe(ns)}`);
  const o = raw['o'];
  if (!isDocumentValue(o)) fail(where, 'o', `"o" must be a document, got ${describe(o)}`);
  const o2 = raw['o2'];
  if (o2 !== undefined && !isDocumentValue(o2)) {
    fail(where, 'o2', `"o2" must be a document, got ${describe(o2)}`);
  }
  const ui = raw['ui'];
  if (ui !== undefined && bsonTypeOf(ui) !== 'Binary') {
    fail(where, 'ui', `"ui" must be a UUID, got ${describe(ui)}`);
  }

  switch (op) {
    case 'i':
      if (ns === '') fail(where, 'ns', 'an insert needs a namespace');
      // Index specs inserted into system.indexes (servers before 4.2 on the wire) have no _id.
      if (!Object.hasOwn(o, '_id') && !ns.endsWith('.system.indexes')) {
        fail(where, 'o._id', 'an inserted document must have an _id');
      }
      break;
    case 'u':
      if (ns === '') fail(where, 'ns', 'an update needs a namespace');
      if (o2 === undefined || !Object.hasOwn(o2, '_id')) {
        fail(where, 'o2._id', 'an update must name its document in o2._id');
      }
      break;
    case 'd':
      if (ns === '') fail(where, 'ns', 'a delete needs a namespace');
      if (!Object.hasOwn(o, '_id')) fail(where, 'o._id', 'a delete must name its document in o._id');
      break;
    case 'c':
      if (!ns.endsWith('.$cmd')) fail(where, 'ns', `a command's namespace must be "<db>.$cmd", got "${ns}"`);
      if (Object.keys(o).length === 0) fail(where, 'o', 'a command entry must hold the command in "o"');
      break;
    default:
      break;
  }

  const operation: { -readonly [K in keyof OplogOperation]: OplogOperation[K] } = { op, ns, o };
  if (o2 !== undefined) operation.o2 = o2;
  if (ui !== undefined) operation.ui = ui as Binary;
  return operation;
}

/** Checks a top-level oplog entry and returns it typed; throws {@link MalformedOplogEntryError} naming the field. */
export function validateEntry(raw: unknown): OplogEntry {
  if (!isDocumentValue(raw)) {
    fail({ path: '' }, '', `an oplog entry must be a document, got ${describe(raw)}`);
  }
  const ts = raw['ts'];
  if (!isTimestamp(ts)) fail({ path: '' }, 'ts', `"ts" must be a Timestamp, got ${describe(ts)}`);
  const where: Where = { ts, path: '' };
  const operation = validateOperation(raw, where);
  const entry: { -readonly [K in keyof OplogEntry]: OplogEntry[K] } = { ts, ...operation };

  const v = raw['v'];
  if (v !== undefined) {
    const version = safeIntegerValue(v);
    if (version !== 2) {
      fail(
        where,
        'v',
        `unsupported oplog format version ${version === undefined ? describe(v) : version} (supported: 2)`,
      );
    }
    entry.v = version;
  }
  const t = int64Field(raw, 't', where);
  if (t !== undefined) entry.t = t;
  const h = int64Field(raw, 'h', where);
  if (h !== undefined) entry.h = h;
  const txnNumber = int64Field(raw, 'txnNumber', where);
  if (txnNumber !== undefined) entry.txnNumber = txnNumber;

  const wall = raw['wall'];
  if (wall !== undefined) {
    if (!(wall instanceof Date)) fail(where, 'wall', `"wall" must be a date, got ${describe(wall)}`);
    entry.wall = wall;
  }
  const lsid = raw['lsid'];
  if (lsid !== undefined) {
    if (!isDocumentValue(lsid)) fail(where, 'lsid', `"lsid" must be a document, got ${describe(lsid)}`);
    entry.lsid = lsid;
  }
  const stmtId = raw['stmtId'];
  if (stmtId !== undefined) {
    const ids = Array.isArray(stmtId)
      ? stmtId.map((id: unknown) => safeIntegerValue(id))
      : [safeIntegerValue(stmtId)];
    if (ids.some((id) => id === undefined)) {
      fail(where, 'stmtId', '"stmtId" must be an integer or an array of integers');
    }
    entry.stmtId = Array.isArray(stmtId) ? (ids as number[]) : (ids[0] as number);
  }
  const prev = raw['prevOpTime'];
  if (prev !== undefined) {
    if (!isDocumentValue(prev) || !isTimestamp(prev['ts'])) {
      fail(where, 'prevOpTime', '"prevOpTime" must be a document { ts: Timestamp, t: Int64 }');
    }
    const term = integerValue(prev['t']);
    if (term === undefined) fail(where, 'prevOpTime.t', '"prevOpTime.t" must be an integer');
    entry.prevOpTime = { ts: prev['ts'], t: term };
  }
  const partialTxn = raw['partialTxn'];
  if (partialTxn !== undefined) {
    if (typeof partialTxn !== 'boolean') fail(where, 'partialTxn', '"partialTxn" must be a boolean');
    entry.partialTxn = partialTxn;
  }
  if (
    (lsid === undefined) !== (txnNumber === undefined) &&
    raw['op'] === 'c' &&
    isTransactionCommand(operation.o)
  ) {
    fail(
      where,
      lsid === undefined ? 'lsid' : 'txnNumber',
      'a transaction entry needs both "lsid" and "txnNumber"',
    );
  }
  return entry;
}

function isTransactionCommand(o: Document): boolean {
  return Object.hasOwn(o, 'commitTransaction') || Object.hasOwn(o, 'abortTransaction');
}

/** The command name of a `c` operation: the first field of `o`. */
export function commandName(operation: OplogOperation): string {
  const [name] = Object.keys(operation.o);
  return name ?? '';
}

/** The database of a namespace (`db` of `db.collection` or `db.$cmd`). */
export function databaseOf(ns: string): string {
  const dot = ns.indexOf('.');
  return dot < 0 ? ns : ns.slice(0, dot);
}
