/**
 * Which oplog entries a job keeps, and what of them. An entry is kept when it touches a namespace the job's filters
 * select (`namespaceSelected`); every other entry is dropped from the slices but still advances the range
 * (docs/pipeline.md, "Oplog slices cover complete ranges").
 *
 * `i`, `u`, `d`, `n`: the entry's `ns` (no-ops with an empty `ns`, such as MongoDB's periodic ones, are dropped).
 * `c`: the namespaces the command names, from {@link COMMAND_TARGETS}; a command not in the table is kept when its
 * database is selected, so an unknown command reaches the applier (which stops on it) instead of being skipped here.
 * Views and time-series collections, which Tidemark does not back up, are judged by the namespace the user sees: a
 * write to `<db>.system.views` by the view it defines, a create of `system.buckets.<name>` by `<name>`; a job that
 * selects one keeps the entry, and the applier refuses it (`UnsupportedNamespaceError`) instead of it being lost.
 *
 * **Transactions are filtered as a whole** ({@link selectOplogEntry}). MongoDB writes a transaction as `applyOps`
 * entries on `admin.$cmd` with the session's `lsid` and `txnNumber`: one entry (`prevOpTime` empty, no flag), or
 * a chain linked by `prevOpTime`: parts with `o.partialTxn: true`, then a last part that commits it, or one with
 * `o.prepare: true` that a later `commitTransaction` or `abortTransaction` entry (same chain) ends. The applier
 * checks the chain and holds the parts until the commit, so every entry of a chain is kept for every job, its
 * operations on namespaces the job leaves out removed (an entry may be left with none); `commitTransaction` and
 * `abortTransaction` carry no operation and are always kept. A single-entry transaction, or an `applyOps` outside
 * a session, is kept when one of its operations is selected, without the others. Kept operations keep the source's
 * bytes; only the `applyOps` array around them is rewritten. A command nested in `applyOps` is one operation,
 * kept whole when it touches a selected namespace.
 */
import { BSON, type Document } from 'mongodb';
import {
  namespaceSelected,
  parseNamespace,
  TIMESERIES_BUCKETS_PREFIX,
  VIEWS_COLLECTION,
  type NamespaceFilters,
} from '@tidemark/domain';
import type { OplogEntryHeader } from './oplog-entry';
import { elementsAt } from './raw-bson';
import { MalformedSourceDocumentError } from './source-error';

/** What an entry touches: namespaces to test against the filters, or `all` for entries every job must keep. */
export type EntryTargets =
  { readonly kind: 'namespaces'; readonly namespaces: readonly string[] } | { readonly kind: 'all' };

const namespaces = (...list: string[]): EntryTargets => ({ kind: 'namespaces', namespaces: list });
const inDb = (db: string, value: unknown): EntryTargets =>
  typeof value === 'string' ? namespaces(`${db}.${value}`) : namespaces(db);

type TargetRule = (db: string, o: Document) => EntryTargets;

/** A time-series collection's buckets `system.buckets.<name>` stand for the collection `<name>` itself. */
const bucketsOwner = (name: unknown): unknown =>
  typeof name === 'string' && name.startsWith(TIMESERIES_BUCKETS_PREFIX)
    ? name.slice(TIMESERIES_BUCKETS_PREFIX.length)
    : name;

const RULES: Record<string, TargetRule> = {
  // A view or time-series create (`viewOn`, `timeseries`, `system.buckets.<name>`) targets the namespace the user
  // sees, so a job selecting it keeps the entry and the applier refuses it (UnsupportedNamespaceError).
  create: (db, o) => inDb(db, bucketsOwner(o['create'])),
  drop: (db, o) => inDb(db, o['drop']),
  collMod: (db, o) => inDb(db, o['collMod']),
  createIndexes: (db, o) => inDb(db, o['createIndexes']),
  dropIndexes: (db, o) => inDb(db, o['dropIndexes']),
  deleteIndex: (db, o) => inDb(db, o['deleteIndex']),
  deleteIndexes: (db, o) => inDb(db, o['deleteIndexes']),
  startIndexBuild: (db, o) => inDb(db, o['startIndexBuild']),
  commitIndexBuild: (db, o) => inDb(db, o['commitIndexBuild']),
  abortIndexBuild: (db, o) => inDb(db, o['abortIndexBuild']),
  convertToCapped: (db, o) => inDb(db, o['convertToCapped']),
  emptycapped: (db, o) => inDb(db, o['emptycapped']),
  // Full namespaces: a rename into or out of a selected collection concerns the job.
  renameCollection: (_db, o) =>
    namespaces(...[o['renameCollection'], o['to']].filter((v): v is string => typeof v === 'string')),
  dropDatabase: (db) => namespaces(db),
  // A transaction or a batch: the namespaces of its operations (nested commands included). Which of them a job
  // keeps, and whether a transaction's entry is kept with none, is `selectOplogEntry`'s concern.
  applyOps: (_db, o) => applyOpsTargets(o['applyOps']),
  // Prepared transactions end with an entry naming no namespace; the applier needs it to commit or discard the
  // operations it holds (and to check the chain), so every job keeps it (it carries no documents).
  commitTransaction: () => ({ kind: 'all' }),
  abortTransaction: () => ({ kind: 'all' }),
};

/**
 * The namespaces each known command touches, by command name (the first field of `o`). `db` is the database of
 * the entry's `<db>.$cmd`.
 */
export const COMMAND_TARGETS: Readonly<Record<string, TargetRule>> = Object.freeze(RULES);

/** True for `<db>.system.views`, where MongoDB writes view definitions (`i`, `u`, `d` of `{ _id: "db.view" }`). */
function isViewsNamespace(ns: string): boolean {
  return parseNamespace(ns).collection === VIEWS_COLLECTION;
}

/**
 * What an `i`, `u`, `d` or `n` operation touches: its `ns`; for a write to `system.views`, the view it defines
 * (`o._id`, or `o2._id` for an update), so a job selecting the view keeps it and the applier refuses it.
 */
function documentOpTargets(op: Document): EntryTargets {
  const ns = typeof op['ns'] === 'string' ? op['ns'] : '';
  if (isViewsNamespace(ns)) {
    const holder = (op['op'] === 'u' ? op['o2'] : op['o']) as Document | undefined;
    const view: unknown = holder?.['_id'];
    if (typeof view === 'string' && view.includes('.')) return namespaces(view);
  }
  return ns === '' ? namespaces() : namespaces(ns);
}

/** What one operation nested in `applyOps` touches. */
function operationTargets(op: Document): EntryTargets {
  const ns = typeof op['ns'] === 'string' ? op['ns'] : '';
  if (op['op'] === 'c' && typeof op['o'] === 'object' && op['o'] !== null) {
    return commandTargets(ns, op['o'] as Document);
  }
  return documentOpTargets(op);
}

function applyOpsTargets(ops: unknown): EntryTargets {
  if (!Array.isArray(ops)) return namespaces();
  const found: string[] = [];
  for (const op of ops as Document[]) {
    const nested = operationTargets(op);
    if (nested.kind === 'all') return nested;
    found.push(...nested.namespaces);
  }
  return namespaces(...found);
}

function commandTargets(ns: string, o: Document): EntryTargets {
  const db = parseNamespace(ns).db;
  const command = Object.keys(o)[0] ?? '';
  const rule = Object.prototype.hasOwnProperty.call(COMMAND_TARGETS, command)
    ? COMMAND_TARGETS[command]
    : undefined;
  return rule === undefined ? namespaces(db) : rule(db, o);
}

function targetsSelected(targets: EntryTargets, filters: NamespaceFilters): boolean {
  return targets.kind === 'all' || targets.namespaces.some((ns) => namespaceSelected(ns, filters));
}

/** What the entry touches. Decodes only `c` entries and writes to `system.views` (both rare and small). */
export function entryTargets(raw: Buffer, header: OplogEntryHeader): EntryTargets {
  if (header.op !== 'c') {
    if (isViewsNamespace(header.ns)) return documentOpTargets(BSON.deserialize(raw, { promoteValues: true }));
    return header.ns === '' ? namespaces() : namespaces(header.ns);
  }
  if (header.o === undefined) return namespaces(parseNamespace(header.ns).db);
  const o = BSON.deserialize(raw.subarray(header.o.start, header.o.end), { promoteValues: true });
  return commandTargets(header.ns, o);
}

/**
 * What a job with these filters keeps of the entry: `raw` itself, `raw` with the `applyOps` operations of
 * namespaces it leaves out removed (see the module comment), or undefined when it keeps nothing of it.
 */
export function selectOplogEntry(
  raw: Buffer,
  header: OplogEntryHeader,
  filters: NamespaceFilters,
): Buffer | undefined {
  if (header.op !== 'c' || header.o === undefined) {
    return targetsSelected(entryTargets(raw, header), filters) ? raw : undefined;
  }
  const entry = BSON.deserialize(raw, { promoteValues: true });
  const o = entry['o'] as Document;
  if (Object.keys(o)[0] !== 'applyOps') {
    return targetsSelected(commandTargets(header.ns, o), filters) ? raw : undefined;
  }
  const ops: unknown = o['applyOps'];
  // Not an array: malformed; the applier refuses it with the reason, this filter does not hide it.
  if (!Array.isArray(ops)) return raw;
  const keep = (ops as Document[]).map((op) => targetsSelected(operationTargets(op), filters));
  if (keep.every(Boolean)) return raw;
  if (!keep.some(Boolean) && !isTransactionChainEntry(entry, o)) return undefined;
  return withApplyOps(raw, header.o.start, keep);
}

function isFlagSet(value: unknown): boolean {
  return value === true || (typeof value === 'number' && value !== 0);
}

/**
 * True for an `applyOps` entry that is part of a transaction chain: in a session (`lsid`, `txnNumber`) and a
 * partial part, a prepare entry, or a part continuing from a previous one (non-empty `prevOpTime`).
 */
function isTransactionChainEntry(entry: Document, o: Document): boolean {
  if (entry['lsid'] === undefined || entry['txnNumber'] === undefined) return false;
  if (isFlagSet(o['partialTxn']) || isFlagSet(entry['partialTxn']) || isFlagSet(o['prepare'])) return true;
  const prev = entry['prevOpTime'] as { ts?: { high?: number; low?: number } } | undefined;
  return prev?.ts !== undefined && (prev.ts.high !== 0 || prev.ts.low !== 0);
}

/**
 * `raw` with `o.applyOps` holding only the operations `keep` marks, renumbered from 0, each with the source's bytes.
 * `oStart` is where the `o` document starts in `raw`.
 */
function withApplyOps(raw: Buffer, oStart: number, keep: readonly boolean[]): Buffer {
  const field = [...elementsAt(raw, oStart)].find((element) => element.name === 'applyOps');
  const items = field === undefined ? [] : [...elementsAt(raw, field.start)];
  if (field === undefined || items.length !== keep.length) {
    throw new MalformedSourceDocumentError('applyOps entry: the operations read do not frame its array');
  }
  const parts: Buffer[] = [];
  let index = 0;
  items.forEach((item, position) => {
    if (!keep[position]) return;
    parts.push(
      Buffer.from([item.type]),
      Buffer.from(`${index++}\0`, 'latin1'),
      raw.subarray(item.start, item.end),
    );
  });
  const body = Buffer.concat(parts);
  const array = Buffer.alloc(4 + body.length + 1); // int32 length, elements, terminating 0x00
  array.writeInt32LE(array.length, 0);
  body.copy(array, 4);
  const delta = array.length - (field.end - field.start);
  const rewritten = Buffer.concat([raw.subarray(0, field.start), array, raw.subarray(field.end)]);
  rewritten.writeInt32LE(raw.readInt32LE(0) + delta, 0);
  rewritten.writeInt32LE(raw.readInt32LE(oStart) + delta, oStart);
  return rewritten;
}
