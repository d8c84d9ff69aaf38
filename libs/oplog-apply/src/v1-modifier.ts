/**
 * The update forms of `u` entries other than `$v:2` diffs, and how an entry's `o` is classified.
 *
 * - **Modifier** (`$v: 1`, or no `$v` on servers before 3.6): `{ $v?: 1, $set?: {...}, $unset?: {...} }`. MongoDB
 *   only ever logs `$set` and `$unset` (every operator is rewritten to its idempotent effect before logging:
 *   `$inc` becomes a `$set` of the result, `$push` a `$set` of the new element), so any other operator is refused:
 *   replaying a non-idempotent `$inc` on redelivery would count twice.
 * - **Replacement**: an `o` without operators is the whole new document. Its `_id` is the document's (`o2._id`); a
 *   replacement without `_id` gets it, one with a different `_id` is malformed.
 * - **Whole-document `$set`**: a `$v:1` update whose `$set` holds a top-level `_id` is a full image of the document
 *   (FerretDB logs every update this way: `{ $v: 1, $set: <whole document> }`, and fields the update removed are
 *   simply absent). MongoDB never logs `_id` in `$set` (`_id` is immutable, and unchanged fields are not logged), so
 *   such an update is applied as a replacement, which also drops removed fields.
 * - **Diff** (`$v: 2`): `{ $v: 2, diff: {...} }`, see `v2-diff.ts`.
 */
import type { Document } from 'bson';
import { idFirst, isDocumentValue, safeIntegerValue } from './bson-values';
import { MalformedOplogEntryError } from './errors';
import { idKey } from './id-key';
import type { ModifierSpec } from './apply-target';
import { parseDiff } from './v2-diff';
import type { DocumentDiff } from './v2-diff';

/** The operators MongoDB writes in `$v:1` oplog updates. */
export const OPLOG_MODIFIER_OPERATORS: readonly string[] = Object.freeze(['$set', '$unset']);

/** How a `u` entry's `o` changes the document. */
export type UpdateForm =
  | { readonly kind: 'modifier'; readonly spec: ModifierSpec }
  | {
      readonly kind: 'replacement';
      readonly doc: Document;
      readonly reason: 'replacement' | 'whole-document-set';
    }
  | { readonly kind: 'diff'; readonly diff: DocumentDiff };

function malformed(field: string, reason: string): never {
  throw new MalformedOplogEntryError(reason, { field });
}

/** Classifies and checks the `o` of a `u` entry whose document is `id` (from `o2._id`). */
export function classifyUpdate(o: Document, id: unknown): UpdateForm {
  const keys = Object.keys(o);
  const version = o['$v'] === undefined ? undefined : safeIntegerValue(o['$v']);
  if (version === 2) {
    const extra = keys.filter((key) => key !== '$v' && key !== 'diff');
    if (extra.length > 0) malformed('o', `a $v:2 update holds only "diff", found ${extra.join(', ')}`);
    if (!Object.hasOwn(o, 'diff')) malformed('o.diff', 'a $v:2 update needs "diff"');
    return { kind: 'diff', diff: parseDiff(o['diff']) };
  }
  if (o['$v'] !== undefined && version !== 1) {
    malformed('o.$v', `unsupported update format version ${String(o['$v'])} (supported: 1, 2)`);
  }
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) {
    return { kind: 'replacement', doc: replacementDocument(o, id), reason: 'replacement' };
  }
  if (operators.length !== keys.length) {
    malformed('o', `an update mixes operators (${operators.join(', ')}) with plain fields`);
  }
  const spec = validateV1Modifier(o);
  const set = spec['$set'];
  if (set !== undefined && Object.hasOwn(set, '_id') && spec['$unset'] === undefined) {
    return { kind: 'replacement', doc: replacementDocument(set, id), reason: 'whole-document-set' };
  }
  return { kind: 'modifier', spec };
}

/** Checks a `$v:1` modifier update and returns its operators (without `$v`). */
export function validateV1Modifier(o: Document): ModifierSpec {
  const spec: Record<string, Document> = {};
  for (const [operator, fields] of Object.entries(o)) {
    if (operator === '$v') continue;
    if (!OPLOG_MODIFIER_OPERATORS.includes(operator)) {
      malformed(
        `o.${operator}`,
        `update operator ${operator} is not part of MongoDB's oplog format (only ${OPLOG_MODIFIER_OPERATORS.join(', ')}); ` +
          'replaying it would not be idempotent',
      );
    }
    if (!isDocumentValue(fields)) malformed(`o.${operator}`, `${operator} must be a document`);
    for (const path of Object.keys(fields)) {
      if (path === '' || path.split('.').some((part) => part === '' || part.startsWith('$'))) {
        malformed(`o.${operator}`, `"${path}" is not a valid update path`);
      }
    }
    spec[operator] = fields;
  }
  if (Object.keys(spec).length === 0) malformed('o', 'a $v:1 update needs $set or $unset');
  return spec;
}

/** The replacement document of a replacement-style update: `o` with the document's `_id` first. */
export function replacementDocument(o: Document, id: unknown): Document {
  if (Object.hasOwn(o, '_id') && idKey(o['_id']) !== idKey(id)) {
    malformed('o._id', "a replacement may not change the document's _id (o._id differs from o2._id)");
  }
  return idFirst({ ...o, _id: Object.hasOwn(o, '_id') ? o['_id'] : id });
}
