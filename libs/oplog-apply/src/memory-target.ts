/**
 * An in-memory {@link ApplyTarget}: a real implementation, not a mock. Collections are maps keyed by the canonical
 * `_id` ({@link idKey}), documents keep field order and insertion order, and update operators follow the server's
 * rules ({@link applyModifier}). It passes the same conformance suite (`describeApplyTarget`) as the MongoDB-backed
 * target, and the unit specs replay oplog fixtures into it.
 *
 * Simplifications, none of which the applier relies on: secondary indexes are catalogued but not enforced
 * (`unique` is not checked), capped collections do not evict, views hold no documents, and validators do not run.
 * All values are copied in and out, so callers cannot change stored state by mutating what they passed or got.
 */
import type { Document } from 'bson';
import type {
  ApplyTarget,
  ApplyTargetCapabilities,
  DeleteResult,
  IdFilter,
  IndexSpec,
  TargetUpdate,
  UpdateResult,
} from './apply-target';
import type { ApplyTargetInspector } from './apply-target.contract';
import { bsonTypeOf, cloneDocument, cloneValue, idFirst, isDocumentValue } from './bson-values';
import { ApplyTargetError } from './errors';
import { idKey } from './id-key';
import { applyModifier } from './modifier-apply';

interface MemoryCollection {
  options: Document;
  readonly indexes: Map<string, IndexSpec>;
  readonly docs: Map<string, Document>;
}

const ID_INDEX_NAME = '_id_';

function splitNamespace(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  const db = dot < 0 ? ns : ns.slice(0, dot);
  const coll = dot < 0 ? '' : ns.slice(dot + 1);
  if (db === '' || coll === '') {
    throw new ApplyTargetError('InvalidNamespace', `"${ns}" is not a "db.collection" namespace`);
  }
  return { db, coll };
}

function checkId(id: unknown, ns: string): void {
  if (id === undefined) throw new ApplyTargetError('BadValue', `a document in ${ns} has no _id`);
  if (Array.isArray(id)) throw new ApplyTargetError('BadValue', `an _id in ${ns} cannot be an array`);
  if (id instanceof RegExp || bsonTypeOf(id) === 'BSONRegExp') {
    throw new ApplyTargetError('BadValue', `an _id in ${ns} cannot be a regular expression`);
  }
}

/** Comparable form of an index: its key pattern in order, its other options by name (`v`, `ns` ignored). */
function indexSignature(spec: Document, withName: boolean): string {
  const options = Object.keys(spec)
    .filter((key) => key !== 'key' && key !== 'v' && key !== 'ns' && (withName || key !== 'name'))
    .sort()
    .map((key) => `${key}=${idKey(spec[key])}`);
  return `${idKey(spec['key'])}|${options.join('|')}`;
}

export class MemoryApplyTarget implements ApplyTarget {
  readonly capabilities: ApplyTargetCapabilities = Object.freeze({ readYourWrites: true });
  private readonly collections = new Map<string, MemoryCollection>();

  async insertOrReplace(ns: string, doc: Document): Promise<void> {
    if (!isDocumentValue(doc)) throw new ApplyTargetError('BadValue', `insert into ${ns}: not a document`);
    checkId(doc['_id'], ns);
    const coll = this.ensureCollection(ns);
    const key = idKey(doc['_id']);
    const existing = coll.docs.get(key);
    const stored = idFirst(cloneDocument(doc));
    // A replaced document keeps the stored _id value (as MongoDB does when the ids are equal but typed differently).
    if (existing !== undefined) stored['_id'] = existing['_id'];
    coll.docs.set(key, stored);
  }

  async update(ns: string, filter: IdFilter, update: TargetUpdate): Promise<UpdateResult> {
    const coll = this.collection(ns);
    const key = idKey(filter._id);
    const current = coll?.docs.get(key);
    if (coll === undefined || current === undefined) return { matched: false };
    if (update.kind === 'modifier') {
      coll.docs.set(key, applyModifier(current, update.spec));
      return { matched: true };
    }
    const replacement = update.doc;
    if (!isDocumentValue(replacement)) {
      throw new ApplyTargetError('BadValue', `replacement in ${ns}: not a document`);
    }
    if (Object.hasOwn(replacement, '_id') && idKey(replacement['_id']) !== key) {
      throw new ApplyTargetError(
        'ImmutableField',
        `a replacement in ${ns} would change the immutable field _id`,
      );
    }
    coll.docs.set(key, idFirst({ ...cloneDocument(replacement), _id: current['_id'] }));
    return { matched: true };
  }

  async delete(ns: string, filter: IdFilter): Promise<DeleteResult> {
    const coll = this.collection(ns);
    return { deleted: coll?.docs.delete(idKey(filter._id)) ?? false };
  }

  async findById(ns: string, filter: IdFilter): Promise<Document | null> {
    const doc = this.collection(ns)?.docs.get(idKey(filter._id));
    return doc === undefined ? null : cloneDocument(doc);
  }

  async createCollection(ns: string, options: Document): Promise<void> {
    splitNamespace(ns);
    if (this.collections.has(ns)) return;
    this.collections.set(ns, this.newCollection(options));
  }

  async dropCollection(ns: string): Promise<void> {
    splitNamespace(ns);
    this.collections.delete(ns);
  }

  async renameCollection(from: string, to: string, dropTarget: boolean): Promise<void> {
    splitNamespace(from);
    splitNamespace(to);
    if (from === to) return;
    const source = this.collections.get(from);
    if (source === undefined) return;
    if (this.collections.has(to)) {
      if (!dropTarget) {
        throw new ApplyTargetError(
          'NamespaceExists',
          `cannot rename ${from} to ${to}: the target exists and dropTarget is false`,
        );
      }
      this.collections.delete(to);
    }
    this.collections.delete(from);
    this.collections.set(to, source);
  }

  async dropDatabase(db: string): Promise<void> {
    if (db === '' || db.includes('.')) {
      throw new ApplyTargetError('InvalidNamespace', `"${db}" is not a database name`);
    }
    for (const ns of [...this.collections.keys()]) {
      if (ns.startsWith(`${db}.`)) this.collections.delete(ns);
    }
  }

  async createIndexes(ns: string, specs: readonly IndexSpec[]): Promise<void> {
    for (const spec of specs) {
      if (!isDocumentValue(spec) || !isDocumentValue(spec.key) || Object.keys(spec.key).length === 0) {
        throw new ApplyTargetError('BadValue', `an index on ${ns} needs a non-empty key document`);
      }
      if (typeof spec.name !== 'string' || spec.name === '') {
        throw new ApplyTargetError('BadValue', `an index on ${ns} needs a name`);
      }
    }
    const coll = this.ensureCollection(ns);
    for (const spec of specs) {
      const existing = coll.indexes.get(spec.name);
      if (existing !== undefined) {
        if (indexSignature(existing, true) === indexSignature(spec, true)) continue;
        throw new ApplyTargetError(
          idKey(existing.key) === idKey(spec.key) ? 'IndexOptionsConflict' : 'IndexKeySpecsConflict',
          `an index named "${spec.name}" with a different specification exists on ${ns}`,
        );
      }
      for (const other of coll.indexes.values()) {
        if (indexSignature(other, false) === indexSignature(spec, false)) {
          throw new ApplyTargetError(
            'IndexOptionsConflict',
            `index "${spec.name}" on ${ns} already exists with a different name: "${other.name}"`,
          );
        }
      }
      coll.indexes.set(spec.name, cloneDocument(spec) as IndexSpec);
    }
  }

  async dropIndexes(ns: string, names: readonly string[] | '*'): Promise<void> {
    const coll = this.collection(ns);
    if (coll === undefined) return;
    if (names === '*') {
      for (const name of [...coll.indexes.keys()]) if (name !== ID_INDEX_NAME) coll.indexes.delete(name);
      return;
    }
    for (const name of names) {
      if (name === ID_INDEX_NAME) {
        throw new ApplyTargetError('InvalidOptions', `cannot drop the _id index of ${ns}`);
      }
      coll.indexes.delete(name);
    }
  }

  async collMod(ns: string, options: Document): Promise<void> {
    const coll = this.collection(ns);
    if (coll === undefined) return;
    const next = cloneDocument(coll.options);
    for (const [option, value] of Object.entries(options)) {
      if (option === 'index') {
        this.modifyIndex(ns, coll, value);
      } else if (value === 'off' && option === 'expireAfterSeconds') {
        delete next[option];
      } else {
        next[option] = cloneValue(value);
      }
    }
    coll.options = next;
  }

  async convertToCapped(
    ns: string,
    options: { readonly size: number; readonly max?: number },
  ): Promise<void> {
    const coll = this.collection(ns);
    if (coll === undefined) return;
    const next: Document = { ...cloneDocument(coll.options), capped: true, size: options.size };
    if (options.max !== undefined) next['max'] = options.max;
    coll.options = next;
  }

  // Inspection (not part of the port): what the specs and the conformance suite look at.

  /** Documents of `ns` in insertion order (copies); empty for a missing collection. */
  documents(ns: string): Document[] {
    return [...(this.collection(ns)?.docs.values() ?? [])].map((doc) => cloneDocument(doc));
  }

  /** Namespaces (`db.collection`) of every collection, sorted; only database `db`'s when given. */
  namespaces(db?: string): string[] {
    return [...this.collections.keys()].filter((ns) => db === undefined || ns.startsWith(`${db}.`)).sort();
  }

  /** The options a collection was created with (as changed by `collMod`/`convertToCapped`), or undefined. */
  collectionOptions(ns: string): Document | undefined {
    const coll = this.collection(ns);
    return coll === undefined ? undefined : cloneDocument(coll.options);
  }

  /** Index specifications of `ns`, in creation order; empty for a missing collection. */
  indexes(ns: string): IndexSpec[] {
    return [...(this.collection(ns)?.indexes.values() ?? [])].map((spec) => cloneDocument(spec) as IndexSpec);
  }

  /** This target's state through the conformance suite's inspector interface. */
  inspector(): ApplyTargetInspector {
    return {
      documents: async (ns) => this.documents(ns),
      collectionNames: async (db) => this.namespaces(db).map((ns) => ns.slice(db.length + 1)),
      collectionOptions: async (ns) => this.collectionOptions(ns),
      indexes: async (ns) => this.indexes(ns),
    };
  }

  private collection(ns: string): MemoryCollection | undefined {
    splitNamespace(ns);
    return this.collections.get(ns);
  }

  private ensureCollection(ns: string): MemoryCollection {
    const existing = this.collection(ns);
    if (existing !== undefined) return existing;
    const created = this.newCollection({});
    this.collections.set(ns, created);
    return created;
  }

  private newCollection(options: Document): MemoryCollection {
    const indexes = new Map<string, IndexSpec>();
    const clustered = options['clusteredIndex'] !== undefined && options['clusteredIndex'] !== false;
    if (options['viewOn'] === undefined && !clustered) {
      indexes.set(ID_INDEX_NAME, { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME });
    }
    return { options: cloneDocument(options), indexes, docs: new Map() };
  }

  private modifyIndex(ns: string, coll: MemoryCollection, change: unknown): void {
    if (!isDocumentValue(change)) {
      throw new ApplyTargetError('BadValue', `collMod of ${ns}: "index" must be a document`);
    }
    const byName = typeof change['name'] === 'string' ? coll.indexes.get(change['name']) : undefined;
    const byKey = isDocumentValue(change['keyPattern'])
      ? [...coll.indexes.values()].find((spec) => idKey(spec.key) === idKey(change['keyPattern']))
      : undefined;
    const spec = byName ?? byKey;
    // The index may have been dropped by a later entry that a redelivery has already applied.
    if (spec === undefined) return;
    const next: Document = cloneDocument(spec);
    for (const [option, value] of Object.entries(change)) {
      if (option === 'name' || option === 'keyPattern') continue;
      if (option === 'hidden' && value === false) delete next['hidden'];
      else next[option] = cloneValue(value);
    }
    coll.indexes.set(spec.name, next as IndexSpec);
  }
}
