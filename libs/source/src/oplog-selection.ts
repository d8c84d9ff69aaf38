/**
 * Which oplog entries a job keeps. An entry is kept when it touches a namespace the job's filters select
 * (`namespaceSelected`); every other entry is dropped from the slices but still advances the range
 * (docs/pipeline.md, "Oplog slices cover complete ranges").
 *
 * `i`, `u`, `d`, `n`: the entry's `ns` (no-ops with an empty `ns`, such as MongoDB's periodic ones, are dropped).
 * `c`: the namespaces the command names, from {@link COMMAND_TARGETS}; a command not in the table is kept when its
 * database is selected, so an unknown command reaches the applier (which stops on it) instead of being skipped here.
 */
import { BSON, type Document } from 'mongodb';
import { namespaceSelected, parseNamespace, type NamespaceFilters } from '@tidemark/domain';
import type { OplogEntryHeader } from './oplog-entry';

/** What an entry touches: namespaces to test against the filters, or `all` for entries every job must keep. */
export type EntryTargets =
  { readonly kind: 'namespaces'; readonly namespaces: readonly string[] } | { readonly kind: 'all' };

const namespaces = (...list: string[]): EntryTargets => ({ kind: 'namespaces', namespaces: list });
const inDb = (db: string, value: unknown): EntryTargets =>
  typeof value === 'string' ? namespaces(`${db}.${value}`) : namespaces(db);

type TargetRule = (db: string, o: Document) => EntryTargets;

const RULES: Record<string, TargetRule> = {
  create: (db, o) => inDb(db, o['create']),
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
  // A transaction: the namespaces of its operations (nested commands included).
  applyOps: (_db, o) => applyOpsTargets(o['applyOps']),
  // Prepared / large transactions end with an entry naming no namespace; the applier needs it to commit or
  // discard the operations it holds, so every job keeps it (it carries no documents).
  commitTransaction: () => ({ kind: 'all' }),
  abortTransaction: () => ({ kind: 'all' }),
};

/**
 * The namespaces each known command touches, by command name (the first field of `o`). `db` is the database of
 * the entry's `<db>.$cmd`.
 */
export const COMMAND_TARGETS: Readonly<Record<string, TargetRule>> = Object.freeze(RULES);

function applyOpsTargets(ops: unknown): EntryTargets {
  if (!Array.isArray(ops)) return namespaces();
  const found: string[] = [];
  for (const op of ops as Document[]) {
    const ns = typeof op['ns'] === 'string' ? op['ns'] : '';
    if (op['op'] === 'c' && typeof op['o'] === 'object' && op['o'] !== null) {
      const nested = commandTargets(ns, op['o'] as Document);
      if (nested.kind === 'all') return nested;
      found.push(...nested.namespaces);
    } else if (ns !== '') {
      found.push(ns);
    }
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

/** What the entry touches. Decodes `o` only for `c` entries (commands are rare and small). */
export function entryTargets(raw: Buffer, header: OplogEntryHeader): EntryTargets {
  if (header.op !== 'c') return header.ns === '' ? namespaces() : namespaces(header.ns);
  if (header.o === undefined) return namespaces(parseNamespace(header.ns).db);
  const o = BSON.deserialize(raw.subarray(header.o.start, header.o.end), { promoteValues: true });
  return commandTargets(header.ns, o);
}

/** True when a job with these filters keeps the entry. */
export function oplogEntrySelected(
  raw: Buffer,
  header: OplogEntryHeader,
  filters: NamespaceFilters,
): boolean {
  const targets = entryTargets(raw, header);
  if (targets.kind === 'all') return true;
  return targets.namespaces.some((ns) => namespaceSelected(ns, filters));
}
