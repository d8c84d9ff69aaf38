/**
 * Parsing Canonical Form (PCF) of an Avro schema, per the Avro specification ("Parsing Canonical Form for
 * Schemas"): the form whose CRC-64-AVRO is the schema's fingerprint. Two schemas with the same PCF read and write
 * the same bytes.
 *
 * Rules applied: [PRIMITIVES] `{"type":"int"}` becomes `"int"`; [FULLNAMES] names become full names and
 * `namespace` is dropped; [STRIP] only `type`, `name`, `fields`, `symbols`, `items`, `values`, `size` are kept
 * (doc, aliases, default, order, logicalType... are dropped); [ORDER] keys in that order; [STRINGS] and [INTEGERS]
 * as JSON; [WHITESPACE] none. A named type already written is referenced by its full name.
 */

import { SchemaDefinitionError } from './bus-errors';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

function fullName(name: string, namespace: string | undefined): string {
  if (name.includes('.') || namespace === undefined || namespace === '') return name;
  return `${namespace}.${name}`;
}

/** The namespace part of a full name, or '' when it has none. */
function namespaceOf(full: string): string {
  const dot = full.lastIndexOf('.');
  return dot < 0 ? '' : full.slice(0, dot);
}

function canonical(schema: unknown, namespace: string | undefined, seen: Set<string>): string {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return JSON.stringify(schema);
    return JSON.stringify(fullName(schema, namespace));
  }
  if (Array.isArray(schema)) {
    return `[${schema.map((branch) => canonical(branch, namespace, seen)).join(',')}]`;
  }
  if (typeof schema !== 'object' || schema === null) {
    throw new SchemaDefinitionError('schema', `not an Avro schema: ${JSON.stringify(schema)}`);
  }
  const obj = schema as Record<string, unknown>;
  const type = obj['type'];
  if (typeof type !== 'string' && typeof type !== 'object') {
    throw new SchemaDefinitionError('schema', `schema without a type: ${JSON.stringify(schema)}`);
  }
  if (typeof type !== 'string') return canonical(type, namespace, seen);
  if (PRIMITIVES.has(type)) return JSON.stringify(type);
  switch (type) {
    case 'array':
      return `{"type":"array","items":${canonical(obj['items'], namespace, seen)}}`;
    case 'map':
      return `{"type":"map","values":${canonical(obj['values'], namespace, seen)}}`;
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed':
      return canonicalNamed(obj, type, namespace, seen);
    default:
      // A reference to a named type written as {"type": "Name"}.
      return canonical(type, namespace, seen);
  }
}

function canonicalNamed(
  obj: Record<string, unknown>,
  type: string,
  enclosing: string | undefined,
  seen: Set<string>,
): string {
  const name = obj['name'];
  if (typeof name !== 'string' || name === '') {
    throw new SchemaDefinitionError('schema', `${type} without a name`);
  }
  const ns = typeof obj['namespace'] === 'string' ? obj['namespace'] : enclosing;
  const full = fullName(name, ns);
  if (seen.has(full)) return JSON.stringify(full);
  seen.add(full);
  const head = `{"name":${JSON.stringify(full)},"type":${JSON.stringify(type)}`;
  if (type === 'enum') {
    const symbols = obj['symbols'];
    if (!Array.isArray(symbols)) throw new SchemaDefinitionError('schema', `enum ${full} without symbols`);
    return `${head},"symbols":[${symbols.map((s) => JSON.stringify(String(s))).join(',')}]}`;
  }
  if (type === 'fixed') {
    const size = obj['size'];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new SchemaDefinitionError('schema', `fixed ${full} without a valid size`);
    }
    return `${head},"size":${JSON.stringify(size)}}`;
  }
  const fields = obj['fields'];
  if (!Array.isArray(fields)) throw new SchemaDefinitionError('schema', `record ${full} without fields`);
  const inner = namespaceOf(full);
  const parts = fields.map((field: unknown) => {
    const f = field as { name?: unknown; type?: unknown };
    if (typeof f.name !== 'string')
      throw new SchemaDefinitionError('schema', `record ${full}: field without a name`);
    return `{"name":${JSON.stringify(f.name)},"type":${canonical(f.type, inner, seen)}}`;
  });
  return `${head},"fields":[${parts.join(',')}]}`;
}

/** The Parsing Canonical Form of `schema` (parsed JSON), as a string. */
export function parsingCanonicalForm(schema: unknown): string {
  return canonical(schema, undefined, new Set());
}
