/**
 * The table of `c` (command) oplog entries: every command the applier knows, mapped to how it is applied, to an
 * explicit ignore with the reason (mongo-tools' `ignoredCEntries`), to an explicit refusal with the reason, or to the
 * applier's transaction handling. A command that is not in this table is never skipped: the applier throws
 * `UnknownOplogCommandError` and the job's pipeline stops.
 *
 * Each applied command declares its **scope** (the source namespaces it acts on), so the applier can filter and map
 * namespaces before anything is written; the handler then receives the mapped names.
 */
import type { Document } from 'bson';
import {
  parseNamespace,
  TIMESERIES_BUCKETS_PREFIX,
  UnsupportedNamespaceError,
  type UnsupportedNamespace,
} from '@tidemark/domain';
import type { ApplyTarget, IndexSpec } from './apply-target';
import { isDocumentValue, isTruthyFlag, safeIntegerValue } from './bson-values';
import { MalformedOplogEntryError, UnreplayableEntryError } from './errors';
import type { OplogOperation } from './entry';
import { databaseOf } from './entry';

/** The source namespaces a command acts on. */
export type CommandScope =
  | { readonly kind: 'collection'; readonly ns: string }
  | { readonly kind: 'database'; readonly db: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string }
  /** `applyOps` and transaction commands: their nested ops are filtered one by one. */
  | { readonly kind: 'cluster' };

/** A scope after namespace mapping; a rename side is null when its namespace is excluded. */
export type MappedScope =
  | { readonly kind: 'collection'; readonly ns: string }
  | { readonly kind: 'database'; readonly db: string }
  | { readonly kind: 'rename'; readonly from: string | null; readonly to: string | null };

export interface CommandInvocation {
  readonly target: ApplyTarget;
  readonly operation: OplogOperation;
  readonly scope: MappedScope;
}

/** What an applied command did: `applied`, or `ignored` with the reason (e.g. a collMod of obsolete flags only). */
export type CommandOutcome =
  { readonly outcome: 'applied' } | { readonly outcome: 'ignored'; readonly reason: string };

export type CommandRule =
  | {
      readonly kind: 'apply';
      readonly scope: (operation: OplogOperation) => CommandScope;
      readonly apply: (invocation: CommandInvocation) => Promise<CommandOutcome>;
    }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'transaction'; readonly role: 'applyOps' | 'commit' | 'abort' };

const APPLIED: CommandOutcome = Object.freeze({ outcome: 'applied' });

function malformed(field: string, reason: string): never {
  throw new MalformedOplogEntryError(reason, { field: `o.${field}` });
}

/** `db.<o[command]>`: the collection a collection-level command names. */
function collectionScope(command: string): (operation: OplogOperation) => CommandScope {
  return (operation) => {
    const name = operation.o[command];
    if (typeof name !== 'string' || name === '') malformed(command, `"${command}" must name a collection`);
    return { kind: 'collection', ns: `${databaseOf(operation.ns)}.${name}` };
  };
}

function collectionOf(scope: MappedScope): string {
  if (scope.kind !== 'collection') throw new TypeError(`expected a collection scope, got ${scope.kind}`);
  return scope.ns;
}

/** `o` without the listed fields. */
function without(o: Document, fields: readonly string[]): Document {
  const rest: Document = {};
  for (const [key, value] of Object.entries(o)) if (!fields.includes(key)) rest[key] = value;
  return rest;
}

function indexSpec(raw: unknown, field: string): IndexSpec {
  if (!isDocumentValue(raw)) malformed(field, 'an index specification must be a document');
  if (!isDocumentValue(raw['key'])) malformed(`${field}.key`, 'an index needs a "key" document');
  if (typeof raw['name'] !== 'string' || raw['name'] === '') {
    malformed(`${field}.name`, 'an index needs a name');
  }
  // `ns` appears in specs of old servers; the target knows its own namespace.
  return without(raw, ['ns']) as IndexSpec;
}

/** Options of `create` the target must not receive (mongo-tools strips the same). */
const CREATE_STRIPPED = [
  'create',
  // The _id index follows from the collection's options (its collation); the target creates it with the collection.
  'idIndex',
  // Internal flag of replicated record ids; refused by servers that do not use them.
  'recordIdsReplicated',
];

/** `collMod` flags of the MMAPv1 storage engine, refused by servers since 4.2 (mongo-tools strips them too). */
const COLLMOD_OBSOLETE = ['noPadding', 'usePowerOf2Sizes'];

const dropIndexesRule: CommandRule = {
  kind: 'apply',
  scope: (operation) => collectionScope(commandNameOf(operation))(operation),
  apply: async ({ target, operation, scope }) => {
    const index = operation.o['index'];
    let names: readonly string[] | '*';
    if (index === '*') names = '*';
    else if (typeof index === 'string') names = [index];
    else if (Array.isArray(index) && index.every((name: unknown) => typeof name === 'string')) {
      names = index as string[];
    } else if (isDocumentValue(index)) {
      // Dropped by key pattern: servers log the index spec (with its name) in o2.
      const name = operation.o2?.['name'];
      if (typeof name !== 'string') {
        malformed('index', 'an index dropped by key pattern needs its name in o2.name');
      }
      names = [name];
    } else {
      return malformed('index', '"index" must be a name, "*", a list of names or a key pattern');
    }
    await target.dropIndexes(collectionOf(scope), names);
    return APPLIED;
  },
};

/**
 * The view or time-series collection a `create` makes, if it makes one (Tidemark backs up neither): `viewOn` (a
 * view; on `system.buckets.*`, a time-series collection's view), `timeseries`, or a `system.buckets.*` name.
 */
function unsupportedCreate(operation: OplogOperation): UnsupportedNamespace | undefined {
  const name = String(operation.o['create']);
  const db = databaseOf(operation.ns);
  const viewOn = operation.o['viewOn'];
  if (name.startsWith(TIMESERIES_BUCKETS_PREFIX)) {
    return { ns: `${db}.${name.slice(TIMESERIES_BUCKETS_PREFIX.length)}`, type: 'timeseries' };
  }
  if (operation.o['timeseries'] !== undefined) return { ns: `${db}.${name}`, type: 'timeseries' };
  if (viewOn !== undefined) {
    const onBuckets = typeof viewOn === 'string' && viewOn.startsWith(TIMESERIES_BUCKETS_PREFIX);
    return { ns: `${db}.${name}`, type: onBuckets ? 'timeseries' : 'view' };
  }
  return undefined;
}

function commandNameOf(operation: OplogOperation): string {
  return Object.keys(operation.o)[0] ?? '';
}

/**
 * Every command the applier knows. Keys are command names (the first field of `o`). Kept in one table so the set
 * of handled, ignored and refused commands is reviewed in one place.
 */
export const COMMANDS: Readonly<Record<string, CommandRule>> = Object.freeze({
  create: {
    kind: 'apply',
    // A time-series collection's buckets stand for the collection: `system.buckets.<name>` is scoped as `<name>`,
    // so a job that backs up `<name>` reaches `apply`, which refuses it.
    scope: (operation) => {
      const scope = collectionScope('create')(operation);
      if (scope.kind !== 'collection') return scope;
      const { db, collection = '' } = parseNamespace(scope.ns);
      return collection.startsWith(TIMESERIES_BUCKETS_PREFIX)
        ? { kind: 'collection', ns: `${db}.${collection.slice(TIMESERIES_BUCKETS_PREFIX.length)}` }
        : scope;
    },
    apply: async ({ target, operation, scope }) => {
      const refused = unsupportedCreate(operation);
      if (refused !== undefined) throw new UnsupportedNamespaceError({ namespaces: [refused] });
      await target.createCollection(collectionOf(scope), without(operation.o, CREATE_STRIPPED));
      return APPLIED;
    },
  },
  drop: {
    kind: 'apply',
    scope: collectionScope('drop'),
    apply: async ({ target, scope }) => {
      await target.dropCollection(collectionOf(scope));
      return APPLIED;
    },
  },
  renameCollection: {
    kind: 'apply',
    scope: (operation) => {
      const from = operation.o['renameCollection'];
      const to = operation.o['to'];
      if (typeof from !== 'string' || !from.includes('.')) {
        malformed('renameCollection', 'must be "db.collection"');
      }
      if (typeof to !== 'string' || !to.includes('.')) malformed('to', 'must be "db.collection"');
      return { kind: 'rename', from, to };
    },
    apply: async ({ target, operation, scope }) => {
      if (scope.kind !== 'rename') throw new TypeError(`expected a rename scope, got ${scope.kind}`);
      // dropTarget is a boolean, or (4.2+) the UUID of the collection the rename replaced.
      const dropTarget = operation.o['dropTarget'];
      const replaces = dropTarget !== undefined && dropTarget !== null && dropTarget !== false;
      if (scope.from === null) {
        // Only reached when `to` is kept: the data lives in a namespace the job does not back up.
        throw new UnreplayableEntryError(
          `renameCollection moves ${String(operation.o['renameCollection'])}, a namespace this job does not back up, ` +
            `into ${String(operation.o['to'])}, which it does: the renamed documents were never captured; include ` +
            'the source namespace in the job and resync',
        );
      }
      if (scope.to === null) {
        // Renamed out of the backed-up namespaces: for this job the collection is gone.
        await target.dropCollection(scope.from);
        return APPLIED;
      }
      await target.renameCollection(scope.from, scope.to, replaces);
      return APPLIED;
    },
  },
  dropDatabase: {
    kind: 'apply',
    scope: (operation) => ({ kind: 'database', db: databaseOf(operation.ns) }),
    apply: async ({ target, scope }) => {
      if (scope.kind !== 'database') throw new TypeError(`expected a database scope, got ${scope.kind}`);
      await target.dropDatabase(scope.db);
      return APPLIED;
    },
  },
  createIndexes: {
    // 4.2+: one index per entry, its spec inline: { createIndexes: <coll>, v, key, name, ...options }.
    kind: 'apply',
    scope: collectionScope('createIndexes'),
    apply: async ({ target, operation, scope }) => {
      await target.createIndexes(collectionOf(scope), [
        indexSpec(without(operation.o, ['createIndexes']), 'createIndexes'),
      ]);
      return APPLIED;
    },
  },
  commitIndexBuild: {
    // 4.4+ two-phase index builds: the commit carries every index of the build in `indexes`.
    kind: 'apply',
    scope: collectionScope('commitIndexBuild'),
    apply: async ({ target, operation, scope }) => {
      const indexes = operation.o['indexes'];
      if (!Array.isArray(indexes) || indexes.length === 0) malformed('indexes', 'must be a non-empty array');
      const specs = indexes.map((raw: unknown, position) => indexSpec(raw, `indexes.${position}`));
      await target.createIndexes(collectionOf(scope), specs);
      return APPLIED;
    },
  },
  startIndexBuild: {
    kind: 'ignore',
    reason:
      'two-phase index build start: the index is created when its commitIndexBuild entry, which carries the specs, arrives',
  },
  abortIndexBuild: {
    kind: 'ignore',
    reason:
      'two-phase index build abort: nothing was created, since indexes are only created at commitIndexBuild',
  },
  dropIndexes: dropIndexesRule,
  // Older names of dropIndexes, still accepted in oplogs from old servers.
  dropIndex: dropIndexesRule,
  deleteIndex: dropIndexesRule,
  deleteIndexes: dropIndexesRule,
  collMod: {
    kind: 'apply',
    scope: collectionScope('collMod'),
    apply: async ({ target, operation, scope }) => {
      const options = without(operation.o, ['collMod', ...COLLMOD_OBSOLETE]);
      if (Object.keys(options).length === 0) {
        return {
          outcome: 'ignored',
          reason: 'collMod of obsolete MMAPv1 flags only (noPadding, usePowerOf2Sizes)',
        };
      }
      await target.collMod(collectionOf(scope), options);
      return APPLIED;
    },
  },
  convertToCapped: {
    kind: 'apply',
    scope: collectionScope('convertToCapped'),
    apply: async ({ target, operation, scope }) => {
      const size = safeIntegerValue(operation.o['size']);
      if (size === undefined || size <= 0) malformed('size', 'convertToCapped needs a positive integer size');
      const max = operation.o['max'] === undefined ? undefined : safeIntegerValue(operation.o['max']);
      await target.convertToCapped(collectionOf(scope), max === undefined ? { size } : { size, max });
      return APPLIED;
    },
  },
  emptycapped: {
    kind: 'reject',
    reason:
      'emptycapped is a test-only command (servers accept it only with enableTestCommands); a production oplog ' +
      'never holds it, and emptying a collection is not an operation of the apply target',
  },
  applyOps: { kind: 'transaction', role: 'applyOps' },
  commitTransaction: { kind: 'transaction', role: 'commit' },
  abortTransaction: { kind: 'transaction', role: 'abort' },
  dbCheck: {
    kind: 'ignore',
    reason: 'health-check record written by the dbCheck command; it changes no data',
  },
  setMultikeyMetadata: {
    kind: 'ignore',
    reason:
      'index metadata the server maintains itself when documents are written (mongo-tools ignores it too)',
  },
  upgradeDowngradeViewlessTimeseries: {
    kind: 'reject',
    reason:
      'time-series format conversion caused by a feature-compatibility-version change between 8.x and 9.0; it ' +
      'cannot be replayed (mongo-tools refuses it too): restore a range that does not cross the FCV change',
  },
  importCollection: {
    kind: 'reject',
    reason:
      "importCollection attaches a collection's data files; the oplog does not carry the imported documents",
  },
});

/** Every command name the applier knows (handled, ignored, refused or transactional). */
export const KNOWN_COMMANDS: readonly string[] = Object.freeze(Object.keys(COMMANDS));

/** The rule of a command, or undefined when the command is unknown. */
export function commandRule(name: string): CommandRule | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/** Whether an `applyOps` entry's `o` marks a transaction part not yet committed. */
export function applyOpsFlags(
  o: Document,
  entryPartial: boolean | undefined,
): { partial: boolean; prepare: boolean } {
  return {
    partial: entryPartial === true || isTruthyFlag(o['partialTxn']),
    prepare: isTruthyFlag(o['prepare']),
  };
}
