/**
 * Namespaces and the namespace filters of a backup job.
 *
 * A namespace is `db.collection` (the collection name may itself contain dots), or just `db` for database-level
 * events. A job backs up the namespaces its filters select ({@link namespaceSelected}); the rules are fixed here
 * so the agent, the applier and restore agree.
 */

/**
 * Databases never backed up, whatever the filters say.
 * - `admin`: users, roles and cluster-wide settings belong to the deployment, not its data.
 * - `local`: per-node data, including the oplog itself.
 * - `config`: sharding metadata and session bookkeeping (backed up by the cluster-wide path, not per job).
 */
export const EXCLUDED_DATABASES: readonly string[] = Object.freeze(['admin', 'local', 'config']);

/** Collections whose names start with this prefix (`system.views`, `system.js`, `system.profile`, ...) are never backed up. */
export const SYSTEM_COLLECTION_PREFIX = 'system.';

/** The collection where MongoDB keeps a database's view definitions (time-series collections' views included). */
export const VIEWS_COLLECTION = 'system.views';

/** A time-series collection `<name>` keeps its data in `<db>.system.buckets.<name>`. */
export const TIMESERIES_BUCKETS_PREFIX = 'system.buckets.';

/**
 * Which namespaces a job backs up. Each entry is `db` (the whole database) or `db.collection`.
 * `include` empty means everything; otherwise only the listed namespaces. `exclude` wins over `include`.
 */
export interface NamespaceFilters {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** A namespace split at its first dot. `collection` is undefined for a database-level namespace. */
export interface Namespace {
  readonly db: string;
  readonly collection: string | undefined;
}

/** Splits `db.collection` at the first dot; `db` alone gives `collection: undefined`. */
export function parseNamespace(ns: string): Namespace {
  const dot = ns.indexOf('.');
  if (dot < 0) return { db: ns, collection: undefined };
  return { db: ns.slice(0, dot), collection: ns.slice(dot + 1) };
}

function matches(filter: string, target: Namespace): boolean {
  const entry = parseNamespace(filter);
  if (entry.db !== target.db) return false;
  return entry.collection === undefined || entry.collection === target.collection;
}

/**
 * Whether a job with these filters backs up `ns`.
 *
 * - `admin`, `local` and `config` databases and `system.*` collections: never.
 * - `db.collection`: selected when `include` is empty or has `db` or `db.collection`, and `exclude` has neither.
 * - `db` alone (a database-level event such as `dropDatabase`): selected when `include` is empty or names the
 *   database or any of its collections, and `exclude` does not name the whole database.
 * - An empty database or collection name: never.
 */
export function namespaceSelected(ns: string, filters: NamespaceFilters): boolean {
  const target = parseNamespace(ns);
  if (target.db === '' || target.collection === '') return false;
  if (EXCLUDED_DATABASES.includes(target.db)) return false;
  if (target.collection?.startsWith(SYSTEM_COLLECTION_PREFIX)) return false;

  if (target.collection === undefined) {
    if (filters.exclude.some((filter) => filter === target.db)) return false;
    return (
      filters.include.length === 0 ||
      filters.include.some((filter) => parseNamespace(filter).db === target.db)
    );
  }
  if (filters.exclude.some((filter) => matches(filter, target))) return false;
  return filters.include.length === 0 || filters.include.some((filter) => matches(filter, target));
}

/** Characters MongoDB does not allow in database names. */
const INVALID_DB_CHARS = /[/\\. "$*<>:|?\0]/;

/**
 * What is wrong with a namespace's names by MongoDB's naming rules, as sentences each starting with `where`; empty
 * when they are valid. A database name is never empty and has none of `/\. "$*<>:|?` or NUL; a collection name
 * (when given) is never empty and has neither `$` nor NUL.
 */
export function namespaceNameProblems(where: string, db: string, collection: string | undefined): string[] {
  const problems: string[] = [];
  if (db === '') problems.push(`${where}: database name is empty`);
  else if (INVALID_DB_CHARS.test(db))
    problems.push(`${where}: database name contains a character MongoDB forbids`);
  if (collection === '') problems.push(`${where}: collection name is empty`);
  else if (collection !== undefined && /[$\0]/.test(collection)) {
    problems.push(`${where}: collection name contains "$" or a null character`);
  }
  return problems;
}

/** Problems with one filter entry, as sentences; empty when the entry is valid. */
function entryProblems(list: 'include' | 'exclude', entry: string): string[] {
  const where = `${list} entry "${entry}"`;
  const { db, collection } = parseNamespace(entry);
  const problems = namespaceNameProblems(where, db, collection);
  if (list === 'include' && EXCLUDED_DATABASES.includes(db)) {
    problems.push(`${where}: database "${db}" is never backed up`);
  }
  if (list === 'include' && collection?.startsWith(SYSTEM_COLLECTION_PREFIX)) {
    problems.push(`${where}: system collections are never backed up`);
  }
  return problems;
}

/** Problems with a job's filters, as sentences for the API to return; empty when valid. */
export function validateNamespaceFilters(filters: NamespaceFilters): string[] {
  return [
    ...filters.include.flatMap((entry) => entryProblems('include', entry)),
    ...filters.exclude.flatMap((entry) => entryProblems('exclude', entry)),
  ];
}
