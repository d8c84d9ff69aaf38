/**
 * MongoDB's update operators applied to an in-memory document, to the extent the applier sends them: `$set`,
 * `$unset`, and `$push` with `$each`/`$slice` (the array-resize step of a translated `$v:2` diff). Used by
 * `MemoryApplyTarget`; the MongoDB-backed target lets the server do this.
 *
 * Server rules reproduced (MongoDB 5.0+):
 * - paths are processed in field-name order (numeric components numerically), so new fields appear in that order;
 * - `$set` keeps an existing field in place, appends a new one, creates missing embedded documents, and pads an
 *   array with `null` up to an index past its end; it fails (`PathNotViable`) through a value that is neither
 *   document nor array, or through an array with a non-numeric component;
 * - `$unset` removes a field, sets an array element to `null`, and does nothing when the path does not exist;
 * - two paths of one update may not overlap (`ConflictingUpdateOperators`); `_id` may not change (`ImmutableField`);
 * - `$push` appends to an array (creating it when missing), then `$slice` keeps the first n (n >= 0) or last -n.
 */
import type { Document } from 'bson';
import { cloneDocument, cloneValue, isDocumentValue } from './bson-values';
import { ApplyTargetError } from './errors';
import { idKey } from './id-key';
import type { ModifierSpec } from './apply-target';

const SUPPORTED = ['$set', '$unset', '$push'] as const;
type Operator = (typeof SUPPORTED)[number];
const ARRAY_INDEX = /^(0|[1-9]\d*)$/;
/** MongoDB refuses to pad an array by more than this many elements. */
const MAX_PADDING = 1_500_000;

interface PathOp {
  readonly operator: Operator;
  readonly path: string;
  readonly parts: readonly string[];
  readonly value: unknown;
}

/** Orders path components as the server does: numeric names numerically (before others), others by code point. */
function compareComponents(a: string, b: string): number {
  const aNum = ARRAY_INDEX.test(a);
  const bNum = ARRAY_INDEX.test(b);
  if (aNum && bNum) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (aNum !== bNum) return aNum ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function comparePaths(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const order = compareComponents(a[index] as string, b[index] as string);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return isDocumentValue(value)
    ? 'a document'
    : `a ${typeof value === 'object' ? 'scalar value' : typeof value}`;
}

/** The post-image of `doc` under `spec`. `doc` is not changed. Throws {@link ApplyTargetError} as the server would. */
export function applyModifier(doc: Document, spec: ModifierSpec): Document {
  const ops = collect(spec);
  checkConflicts(ops);
  const out = cloneDocument(doc);
  for (const op of [...ops].sort((a, b) => comparePaths(a.parts, b.parts))) {
    if (op.parts[0] === '_id') {
      checkIdUnchanged(doc, op);
      continue;
    }
    if (op.operator === '$set') setPath(out, op.parts, cloneValue(op.value), op.path);
    else if (op.operator === '$unset') unsetPath(out, op.parts);
    else pushPath(out, op);
  }
  return out;
}

function collect(spec: ModifierSpec): PathOp[] {
  const ops: PathOp[] = [];
  const operators = Object.keys(spec);
  if (operators.length === 0) {
    throw new ApplyTargetError('FailedToParse', 'an update modifier needs an operator');
  }
  for (const operator of operators) {
    if (!(SUPPORTED as readonly string[]).includes(operator)) {
      throw new ApplyTargetError(
        'FailedToParse',
        `update operator ${operator} is not supported (only ${SUPPORTED.join(', ')})`,
      );
    }
    const fields = spec[operator];
    if (!isDocumentValue(fields)) throw new ApplyTargetError('FailedToParse', `${operator} needs a document`);
    for (const [path, value] of Object.entries(fields)) {
      const parts = path.split('.');
      if (parts.some((part) => part === '' || part.startsWith('$'))) {
        throw new ApplyTargetError('FailedToParse', `${operator}: "${path}" is not a valid update path`);
      }
      ops.push({ operator: operator as Operator, path, parts, value });
    }
  }
  return ops;
}

function checkConflicts(ops: readonly PathOp[]): void {
  const sorted = [...ops].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let index = 1; index < sorted.length; index += 1) {
    const previous = sorted[index - 1] as PathOp;
    const current = sorted[index] as PathOp;
    if (current.path === previous.path || current.path.startsWith(`${previous.path}.`)) {
      throw new ApplyTargetError(
        'ConflictingUpdateOperators',
        `updating the path "${current.path}" would create a conflict at "${previous.path}"`,
      );
    }
  }
}

function checkIdUnchanged(doc: Document, op: PathOp): void {
  if (op.operator === '$set' && op.parts.length === 1 && idKey(op.value) === idKey(doc['_id'])) return;
  throw new ApplyTargetError(
    'ImmutableField',
    `${op.operator} of "${op.path}" would change the immutable field _id`,
  );
}

type Container = Document | unknown[];

/** Reads child `part` of a container, or undefined (missing, or not addressable). */
function child(container: Container, part: string): unknown {
  if (Array.isArray(container)) return ARRAY_INDEX.test(part) ? container[Number(part)] : undefined;
  return Object.hasOwn(container, part) ? container[part] : undefined;
}

function assign(container: Container, part: string, value: unknown, path: string): void {
  if (!Array.isArray(container)) {
    container[part] = value;
    return;
  }
  if (!ARRAY_INDEX.test(part)) {
    throw new ApplyTargetError('PathNotViable', `cannot create field "${part}" in an array (path "${path}")`);
  }
  const index = Number(part);
  if (index - container.length > MAX_PADDING) {
    throw new ApplyTargetError(
      'CannotBackfillArray',
      `"${path}" would pad the array by more than ${MAX_PADDING} nulls`,
    );
  }
  while (container.length < index) container.push(null);
  container[index] = value;
}

function setPath(root: Document, parts: readonly string[], value: unknown, path: string): void {
  let container: Container = root;
  for (let index = 0; index < parts.length - 1; index += 1) {
    const part = parts[index] as string;
    let next = child(container, part);
    if (next === undefined) {
      next = {};
      assign(container, part, next, path);
    } else if (!Array.isArray(next) && !isDocumentValue(next)) {
      throw new ApplyTargetError(
        'PathNotViable',
        `cannot create field "${parts[index + 1] as string}" in element "${parts.slice(0, index + 1).join('.')}", ` +
          `which is ${describeValue(next)} (path "${path}")`,
      );
    }
    container = next as Container;
  }
  assign(container, parts[parts.length - 1] as string, value, path);
}

function unsetPath(root: Document, parts: readonly string[]): void {
  let container: Container = root;
  for (let index = 0; index < parts.length - 1; index += 1) {
    const next = child(container, parts[index] as string);
    if (!Array.isArray(next) && !isDocumentValue(next)) return;
    container = next;
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(container)) {
    if (ARRAY_INDEX.test(last) && Number(last) < container.length) container[Number(last)] = null;
  } else {
    delete container[last];
  }
}

function pushPath(root: Document, op: PathOp): void {
  let each: unknown[] = [op.value];
  let slice: number | undefined;
  if (isDocumentValue(op.value) && Object.keys(op.value).some((key) => key.startsWith('$'))) {
    const modifiers = op.value;
    for (const key of Object.keys(modifiers)) {
      if (key !== '$each' && key !== '$slice') {
        throw new ApplyTargetError(
          'FailedToParse',
          `$push modifier ${key} is not supported (only $each, $slice)`,
        );
      }
    }
    if (!Array.isArray(modifiers['$each'])) {
      throw new ApplyTargetError('FailedToParse', '$push needs $each: [...]');
    }
    each = modifiers['$each'];
    if (modifiers['$slice'] !== undefined) {
      const raw = modifiers['$slice'];
      const number = typeof raw === 'number' ? raw : Number((raw as { valueOf(): unknown }).valueOf());
      if (!Number.isInteger(number)) throw new ApplyTargetError('FailedToParse', '$slice must be an integer');
      slice = number;
    }
  }
  let target = readPath(root, op.parts);
  if (target === undefined) {
    // A missing array is created, as an empty one (setPath fails if the path cannot exist).
    setPath(root, op.parts, [], op.path);
    target = readPath(root, op.parts);
  }
  if (!Array.isArray(target)) {
    throw new ApplyTargetError(
      'BadValue',
      `the field "${op.path}" must be an array but is ${describeValue(target)}`,
    );
  }
  target.push(...each.map((item) => cloneValue(item)));
  if (slice !== undefined) {
    const kept = slice >= 0 ? target.slice(0, slice) : target.slice(Math.max(target.length + slice, 0));
    target.splice(0, target.length, ...kept);
  }
}

function readPath(root: Document, parts: readonly string[]): unknown {
  let value: unknown = root;
  for (const part of parts) {
    if (!Array.isArray(value) && !isDocumentValue(value)) return undefined;
    value = child(value, part);
  }
  return value;
}
