/**
 * Which namespaces a restore writes, and where: `--include` / `--exclude` (the job filters' rules, `namespaceSelected`
 * of the domain) and `--rename FROM=TO`, where FROM and TO are both `db` or both `db.coll`. A collection rename wins
 * over its database's rename. The same mapping serves the snapshot's namespaces and the replayed oplog entries, so a
 * point-in-time restore writes where the snapshot part wrote.
 */
import {
  TidemarkError,
  namespaceSelected,
  parseNamespace,
  validateNamespaceFilters,
  type NamespaceFilters,
} from '@tidemark/domain';
import type { RestoreNamespace, RestoreSnapshot } from './ports';

/** The user's include/exclude/rename options are not valid. Not retriable; nothing was written. */
export class RestoreOptionsError extends TidemarkError {
  override readonly name: string = 'RestoreOptionsError';
  constructor(readonly problems: readonly string[]) {
    super(`restore options: ${problems.join('; ')}`, { retriable: false });
  }
}

export interface NamespaceRename {
  readonly from: string;
  readonly to: string;
}

export interface RestoreSelection extends NamespaceFilters {
  readonly renames: readonly NamespaceRename[];
}

export const SELECT_ALL: RestoreSelection = Object.freeze({ include: [], exclude: [], renames: [] });

/** Characters MongoDB does not allow in database names. */
const INVALID_DB_CHARS = /[/\\. "$*<>:|?\0]/;

function nameProblems(what: string, ns: string): string[] {
  const { db, collection } = parseNamespace(ns);
  const problems: string[] = [];
  if (db === '') problems.push(`${what}: database name is empty`);
  else if (INVALID_DB_CHARS.test(db))
    problems.push(`${what}: database name contains a character MongoDB forbids`);
  if (collection === '') problems.push(`${what}: collection name is empty`);
  else if (collection !== undefined && /[$\0]/.test(collection)) {
    problems.push(`${what}: collection name contains "$" or a null character`);
  }
  return problems;
}

/** Parses `--rename FROM=TO`; throws {@link RestoreOptionsError} naming what is wrong. */
export function parseRename(text: string): NamespaceRename {
  const eq = text.indexOf('=');
  if (eq < 0) throw new RestoreOptionsError([`--rename "${text}": expected FROM=TO`]);
  const from = text.slice(0, eq).trim();
  const to = text.slice(eq + 1).trim();
  const problems = [
    ...nameProblems(`--rename "${text}" FROM`, from),
    ...nameProblems(`--rename "${text}" TO`, to),
  ];
  const fromIsDb = parseNamespace(from).collection === undefined;
  const toIsDb = parseNamespace(to).collection === undefined;
  if (problems.length === 0 && fromIsDb !== toIsDb) {
    problems.push(`--rename "${text}": FROM and TO must both be a database or both be db.coll`);
  }
  if (problems.length > 0) throw new RestoreOptionsError(problems);
  return { from, to };
}

/** Checks filters and renames together (each FROM renamed once); throws {@link RestoreOptionsError}. */
export function validateSelection(selection: RestoreSelection): void {
  const problems = [...validateNamespaceFilters(selection)];
  const seen = new Set<string>();
  for (const r of selection.renames) {
    problems.push(...nameProblems(`--rename ${r.from}=${r.to} FROM`, r.from), ...nameProblems(`TO`, r.to));
    if (seen.has(r.from)) problems.push(`--rename ${r.from} is given more than once`);
    seen.add(r.from);
  }
  if (problems.length > 0) throw new RestoreOptionsError(problems);
}

/**
 * The mapping of a selection: a source namespace (`db.coll`, or `db` alone for database-level entries) to where the
 * restore writes it, or `null` when it is not restored.
 */
export function namespaceMapping(selection: RestoreSelection): (sourceNs: string) => string | null {
  validateSelection(selection);
  const collections = new Map<string, string>();
  const databases = new Map<string, string>();
  for (const r of selection.renames) {
    if (parseNamespace(r.from).collection === undefined) databases.set(r.from, r.to);
    else collections.set(r.from, r.to);
  }
  return (sourceNs) => {
    if (!namespaceSelected(sourceNs, selection)) return null;
    const renamed = collections.get(sourceNs);
    if (renamed !== undefined) return renamed;
    const { db, collection } = parseNamespace(sourceNs);
    const toDb = databases.get(db) ?? db;
    return collection === undefined ? toDb : `${toDb}.${collection}`;
  };
}

/**
 * The namespaces of `snapshot` that `selection` restores, with their targets, in the snapshot's order. Throws
 * {@link RestoreOptionsError} when two namespaces would land in one, or when an `--include` or a rename names a
 * namespace the snapshot does not have (a typo would otherwise restore nothing, silently).
 */
export function planNamespaces(snapshot: RestoreSnapshot, selection: RestoreSelection): RestoreNamespace[] {
  const map = namespaceMapping(selection);
  const planned: RestoreNamespace[] = [];
  const targets = new Map<string, string>();
  const problems: string[] = [];
  for (const ns of snapshot.namespaces) {
    const targetNs = map(ns.namespace);
    if (targetNs === null) continue;
    const other = targets.get(targetNs);
    if (other !== undefined)
      problems.push(`${other} and ${ns.namespace} would both be restored into ${targetNs}`);
    targets.set(targetNs, ns.namespace);
    const { uuid: _uuid, ...options } = ns.options;
    planned.push({
      sourceNs: ns.namespace,
      targetNs,
      options,
      indexes: ns.indexes,
      documentCount: ns.documentCount,
      logicalBytes: ns.logicalBytes,
    });
  }
  const names = snapshot.namespaces.map((n) => n.namespace);
  const covers = (entry: string) => {
    const { db, collection } = parseNamespace(entry);
    return names.some((n) => (collection === undefined ? parseNamespace(n).db === db : n === entry));
  };
  for (const entry of selection.include) {
    if (!covers(entry))
      problems.push(`--include ${entry}: snapshot ${snapshot.snapshotId} has no such namespace`);
  }
  for (const r of selection.renames) {
    if (!covers(r.from))
      problems.push(`--rename ${r.from}: snapshot ${snapshot.snapshotId} has no such namespace`);
  }
  if (problems.length > 0) throw new RestoreOptionsError(problems);
  return planned;
}
