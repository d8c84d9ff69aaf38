/**
 * MongoDB's `$v:2` update format ("delta" oplog entries, MongoDB 5.0+): `{ $v: 2, diff: <document diff> }`.
 *
 * A document diff has, in this order, optional sections `d` (fields to delete: `{ f: false }`), `u` (fields to set
 * to a new value), `i` (fields to insert at the end) and any number of `s<field>` sub-diffs (a document diff or an
 * array diff for that field). An array diff starts with `a: true`, may give the array's new length `l`, then lists
 * `u<index>` (new value) and `s<index>` (sub-diff) entries in ascending index order. MongoDB also defines a `b`
 * section (binary deltas, used for time-series buckets only); it is rejected here.
 *
 * Two ways to apply a diff:
 * - {@link applyV2Diff} computes the post-image from the current document with the server's own rules
 *   (`document_diff_applier.cpp`): updated fields keep their position; fields updated but absent, then inserted
 *   fields, are appended in diff order; an inserted field that exists is moved to the end; a sub-diff on a field of
 *   the wrong type (or missing array index) gives `null` (this only happens when an entry is re-applied to a
 *   document that later entries changed; those later entries overwrite it again); an array is cut to `l` or padded
 *   with `null` up to `l`.
 * - {@link diffToModifier} translates the diff into `$set`/`$unset` with dotted, array-index paths, plus one
 *   follow-up `$push` with `$each: []` and `$slice: l` per shrunk array (see {@link DiffModifier} for what this
 *   form cannot reproduce).
 */
import type { Document } from 'bson';
import { asEmbeddedDocument, integerValue } from './bson-values';
import { DiffNotExpressibleError, MalformedOplogEntryError } from './errors';
import type { ModifierSpec } from './apply-target';

/** A parsed document diff. */
export interface DocumentDiff {
  readonly kind: 'document';
  readonly deletes: readonly string[];
  readonly updates: readonly (readonly [string, unknown])[];
  readonly inserts: readonly (readonly [string, unknown])[];
  readonly subDiffs: readonly (readonly [string, DocumentDiff | ArrayDiff])[];
}

/** One modification of an array diff. */
export type ArrayDiffEntry =
  | { readonly index: number; readonly kind: 'update'; readonly value: unknown }
  | { readonly index: number; readonly kind: 'subdiff'; readonly diff: DocumentDiff | ArrayDiff };

/** A parsed array diff. */
export interface ArrayDiff {
  readonly kind: 'array';
  /** The array's new length (`l`), when the diff resizes it. */
  readonly resize: number | undefined;
  /** Modifications in ascending index order. */
  readonly entries: readonly ArrayDiffEntry[];
}

const SECTION_ORDER: Readonly<Record<string, number>> = { d: 1, u: 2, i: 3, b: 4 };
const INDEX_TEXT = /^\d+$/;
/** BSON documents nest at most 100 levels deep, and so do diffs. */
const MAX_DEPTH = 200;

function malformed(path: string, reason: string): never {
  throw new MalformedOplogEntryError(`invalid $v:2 diff: ${reason}`, { field: path });
}

/** Parses and checks a `$v:2` diff (the value of `o.diff`), as the server's diff readers do. */
export function parseDiff(raw: unknown, path = 'o.diff'): DocumentDiff {
  return parseDocumentDiff(raw, path, 0);
}

function parseAny(raw: unknown, path: string, depth: number): DocumentDiff | ArrayDiff {
  const doc = asEmbeddedDocument(raw);
  if (doc === undefined) malformed(path, 'a sub-diff must be a document');
  const [first] = Object.keys(doc);
  return first === 'a' ? parseArrayDiff(doc, path, depth) : parseDocumentDiff(doc, path, depth);
}

function parseDocumentDiff(raw: unknown, path: string, depth: number): DocumentDiff {
  if (depth > MAX_DEPTH) malformed(path, `nested deeper than ${MAX_DEPTH} levels`);
  const doc = asEmbeddedDocument(raw);
  if (doc === undefined) malformed(path, 'a diff must be a document');
  const keys = Object.keys(doc);
  if (keys.length === 0) malformed(path, 'a diff must not be empty');

  const deletes: string[] = [];
  const updates: [string, unknown][] = [];
  const inserts: [string, unknown][] = [];
  const subDiffs: [string, DocumentDiff | ArrayDiff][] = [];
  const seen = new Set<string>();
  const claim = (field: string, at: string): void => {
    if (seen.has(field)) malformed(at, `field "${field}" appears in more than one section`);
    seen.add(field);
  };

  let previous = 0;
  for (const key of keys) {
    const at = `${path}.${key}`;
    const section = key.charAt(0);
    if (section === 's' && key.length > 1) {
      previous = 5;
      const field = key.slice(1);
      claim(field, at);
      subDiffs.push([field, parseAny(doc[key], at, depth + 1)]);
      continue;
    }
    const order = key.length === 1 ? SECTION_ORDER[section] : undefined;
    if (order === undefined || order <= previous) {
      malformed(
        at,
        `unexpected section "${key}" (sections are d, u, i, then s<field>, in that order, once each)`,
      );
    }
    previous = order;
    if (section === 'b') {
      malformed(at, 'binary diff sections ("b", written for time-series buckets) are not supported');
    }
    const content = asEmbeddedDocument(doc[key]);
    if (content === undefined) malformed(at, `section "${key}" must be a document`);
    for (const [field, value] of Object.entries(content)) {
      claim(field, `${at}.${field}`);
      if (section === 'd') deletes.push(field);
      else if (section === 'u') updates.push([field, value]);
      else inserts.push([field, value]);
    }
  }
  return { kind: 'document', deletes, updates, inserts, subDiffs };
}

function parseArrayDiff(doc: Document, path: string, depth: number): ArrayDiff {
  if (depth > MAX_DEPTH) malformed(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (doc['a'] !== true) malformed(`${path}.a`, 'an array diff must start with a: true');
  let resize: number | undefined;
  const entries: ArrayDiffEntry[] = [];
  const keys = Object.keys(doc).slice(1);
  keys.forEach((key, position) => {
    const at = `${path}.${key}`;
    if (key === 'l') {
      if (position !== 0) malformed(at, 'the resize field "l" must follow "a"');
      const length = integerValue(doc[key]);
      if (length === undefined || length < 0n || length > 0x7fffffffn) {
        malformed(at, '"l" must be a non-negative 32-bit integer');
      }
      resize = Number(length);
      return;
    }
    const kind = key.charAt(0);
    const digits = key.slice(1);
    if ((kind !== 'u' && kind !== 's') || !INDEX_TEXT.test(digits)) {
      malformed(at, `expected "u<index>" or "s<index>" in an array diff, got "${key}"`);
    }
    const index = Number(digits);
    if (!Number.isSafeInteger(index)) malformed(at, 'array index out of range');
    const last = entries[entries.length - 1];
    if (last !== undefined && index <= last.index) {
      malformed(at, 'array diff indexes must be strictly ascending');
    }
    if (resize !== undefined && index >= resize) {
      malformed(at, `index ${index} is beyond the new length ${resize}`);
    }
    if (kind === 'u') entries.push({ index, kind: 'update', value: doc[key] });
    else entries.push({ index, kind: 'subdiff', diff: parseAny(doc[key], at, depth + 1) });
  });
  return { kind: 'array', resize, entries };
}

/**
 * The post-image of `doc` under `diff` (already parsed or raw `o.diff`), as the server computes it. `doc` is not
 * changed; unchanged values are shared with it.
 */
export function applyV2Diff(doc: Document, diff: DocumentDiff | unknown): Document {
  const parsed = isParsedDocumentDiff(diff) ? diff : parseDiff(diff);
  return applyToDocument(doc, parsed);
}

function isParsedDocumentDiff(value: unknown): value is DocumentDiff {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'document' &&
    Array.isArray((value as { deletes?: unknown }).deletes)
  );
}

type FieldChange =
  | { readonly kind: 'delete' }
  | { readonly kind: 'update'; readonly value: unknown }
  | { readonly kind: 'insert' }
  | { readonly kind: 'subdiff'; readonly diff: DocumentDiff | ArrayDiff };

function applyToDocument(pre: Document, diff: DocumentDiff): Document {
  const changes = new Map<string, FieldChange>();
  for (const field of diff.deletes) changes.set(field, { kind: 'delete' });
  for (const [field, value] of diff.updates) changes.set(field, { kind: 'update', value });
  for (const [field] of diff.inserts) changes.set(field, { kind: 'insert' });
  for (const [field, sub] of diff.subDiffs) changes.set(field, { kind: 'subdiff', diff: sub });

  const out: Document = {};
  const written = new Set<string>();
  for (const [field, value] of Object.entries(pre)) {
    const change = changes.get(field);
    if (change === undefined) {
      out[field] = value;
      continue;
    }
    switch (change.kind) {
      case 'delete':
      case 'insert': // the pre-image's copy is dropped; the insert is appended below
        break;
      case 'update':
        out[field] = change.value;
        written.add(field);
        break;
      case 'subdiff':
        out[field] = applySubDiff(value, change.diff);
        break;
    }
  }
  // Updated fields the pre-image lacked, then inserted fields, go to the end in diff order.
  for (const [field, value] of [...diff.updates, ...diff.inserts]) {
    if (!written.has(field)) out[field] = value;
  }
  return out;
}

/** A sub-diff applied to a value; a value of the wrong type (or none) becomes null, as on the server. */
function applySubDiff(value: unknown, diff: DocumentDiff | ArrayDiff): unknown {
  if (diff.kind === 'document') {
    const doc = asEmbeddedDocument(value);
    return doc === undefined ? null : applyToDocument(doc, diff);
  }
  return Array.isArray(value) ? applyToArray(value, diff) : null;
}

function applyToArray(pre: readonly unknown[], diff: ArrayDiff): unknown[] {
  const out: unknown[] = [];
  const length = diff.resize ?? Math.max(pre.length, lastIndex(diff) + 1);
  let next = 0;
  for (let index = 0; index < length; index += 1) {
    const entry = diff.entries[next];
    if (entry !== undefined && entry.index === index) {
      next += 1;
      out.push(
        entry.kind === 'update'
          ? entry.value
          : index < pre.length
            ? applySubDiff(pre[index], entry.diff)
            : null,
      );
    } else {
      out.push(index < pre.length ? pre[index] : null);
    }
  }
  return out;
}

function lastIndex(diff: ArrayDiff): number {
  const last = diff.entries[diff.entries.length - 1];
  return last === undefined ? -1 : last.index;
}

/**
 * A `$v:2` diff as modifier updates, applied in order:
 * 1. `modifier`: one `{ $set, $unset }` (either may be absent; both absent when the diff only shrinks arrays)
 *    holding every `u`, `i` and `d` of the diff at dotted paths (`a.b`, `arr.3.c`);
 * 2. `resizes`: for each array diff with `l`, in document order, `{ $push: { <path>: { $each: [], $slice: l } } }`,
 *    which cuts the array to its first `l` elements. It is a separate update because MongoDB rejects a `$push` on
 *    a path that the same update also `$set`s below it.
 *
 * The result is the server's post-image for diffs the server writes (which only give `l` to shrink an array and
 * set every new element with `u<index>`), with two exceptions, which is why {@link applyV2Diff} is preferred when the
 * target can read documents: an `i` for a field that already exists keeps the field in place instead of moving it
 * to the end (pipeline-style updates produce such diffs), and new fields are ordered the way `$set` orders them
 * (by name, MongoDB 5.0+) instead of in diff order. Re-applying it to a document that later entries changed can fail
 * on the server (a `$set` through a value that is no longer a document, a `$push` on a value that is no longer an
 * array) where {@link applyV2Diff} writes `null`.
 */
export interface DiffModifier {
  readonly modifier: ModifierSpec | undefined;
  readonly resizes: readonly ModifierSpec[];
}

/** Translates a `$v:2` diff (parsed, or the raw `o.diff`) into modifier updates; see {@link DiffModifier}. */
export function diffToModifier(diff: DocumentDiff | unknown): DiffModifier {
  const parsed = isParsedDocumentDiff(diff) ? diff : parseDiff(diff);
  const set: Document = {};
  const unset: Document = {};
  const resizes: ModifierSpec[] = [];
  collectDocument(parsed, '', { set, unset, resizes });
  const modifier: Record<string, Document> = {};
  if (Object.keys(set).length > 0) modifier['$set'] = set;
  if (Object.keys(unset).length > 0) modifier['$unset'] = unset;
  return { modifier: Object.keys(modifier).length > 0 ? modifier : undefined, resizes };
}

interface Collected {
  readonly set: Document;
  readonly unset: Document;
  readonly resizes: ModifierSpec[];
}

function fieldPath(prefix: string, field: string): string {
  const path = prefix === '' ? field : `${prefix}.${field}`;
  if (field === '') {
    throw new DiffNotExpressibleError(path, 'an empty field name cannot be addressed by a path');
  }
  if (field.includes('.')) throw new DiffNotExpressibleError(path, `field name "${field}" contains "."`);
  if (field.startsWith('$')) throw new DiffNotExpressibleError(path, `field name "${field}" starts with "$"`);
  return path;
}

function collectDocument(diff: DocumentDiff, prefix: string, out: Collected): void {
  for (const field of diff.deletes) out.unset[fieldPath(prefix, field)] = '';
  for (const [field, value] of [...diff.updates, ...diff.inserts]) out.set[fieldPath(prefix, field)] = value;
  for (const [field, sub] of diff.subDiffs) collectAny(sub, fieldPath(prefix, field), out);
}

function collectAny(diff: DocumentDiff | ArrayDiff, path: string, out: Collected): void {
  if (diff.kind === 'document') {
    collectDocument(diff, path, out);
    return;
  }
  if (diff.resize !== undefined) out.resizes.push({ $push: { [path]: { $each: [], $slice: diff.resize } } });
  for (const entry of diff.entries) {
    const at = `${path}.${entry.index}`;
    if (entry.kind === 'update') out.set[at] = entry.value;
    else collectAny(entry.diff, at, out);
  }
}
