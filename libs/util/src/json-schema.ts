/**
 * JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as the one description of a request body: the same object
 * feeds the API's OpenAPI document and checks the bodies that arrive ({@link schemaCheck}, ajv). Problems are
 * sentences naming the field (`include[2] must be at most 255 characters`), in the style of the hand-written
 * checks they sit beside, so an API answer lists them as it lists those.
 *
 * {@link jsonNestingDepth} measures how deep a JSON text nests before it is parsed, so a hostile body can be refused
 * before anything walks it.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';

/** A JSON Schema object; plain data, so it can be put into an OpenAPI document as it is. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** The deepest a request body may nest (objects and arrays); every body of the API nests 5 levels at most. */
export const MAX_JSON_DEPTH = 32;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });

/** Compiles `schema` once; the checker returns the problems of a value as sentences, empty when it conforms. */
export function schemaCheck(schema: JsonSchema): (value: unknown) => string[] {
  const validate = ajv.compile(schema);
  return (value) =>
    validate(value)
      ? []
      : (validate.errors ?? []).map(sentence).filter((p, i, all) => p !== '' && unique(p, i, all));
}

const unique = (p: string, i: number, all: string[]): boolean => all.indexOf(p) === i;

/** `/include/2` -> `include[2]`; `/schedule/retention` -> `schedule.retention`; `` -> `the body`. */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  if (parts.length === 0) return 'the body';
  let out = '';
  for (const raw of parts) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part.slice(0, 80))}]`;
  }
  return out;
}

function sentence(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  // A key that fails `propertyNames` is reported by its own error (below), naming the key.
  if (e.keyword === 'propertyNames') return '';
  const at =
    e.propertyName === undefined
      ? fieldPath(e.instancePath)
      : `${fieldPath(e.instancePath)} key ${JSON.stringify(e.propertyName.slice(0, 80))}`;
  switch (e.keyword) {
    case 'required':
      return `${fieldPath(e.instancePath, String(p['missingProperty']))} is required`;
    case 'additionalProperties':
      return `${fieldPath(e.instancePath, String(p['additionalProperty']))} is not a field`;
    case 'type':
      return `${at} must be ${String(p['type']).split(',').join(' or ')}`;
    case 'enum':
      return `${at} must be one of ${(p['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `${at} must be ${JSON.stringify(p['allowedValue'])}`;
    case 'maxLength':
      return `${at} must be at most ${String(p['limit'])} characters`;
    case 'minLength':
      return `${at} must be at least ${String(p['limit'])} characters`;
    case 'maxItems':
      return `${at} must have at most ${String(p['limit'])} items`;
    case 'minItems':
      return `${at} must have at least ${String(p['limit'])} items`;
    case 'maxProperties':
      return `${at} must have at most ${String(p['limit'])} entries`;
    case 'minProperties':
      return `${at} must have at least ${String(p['limit'])} entries`;
    case 'pattern':
      return `${at} must match ${String(p['pattern'])}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at} must be ${String(p['comparison'])} ${String(p['limit'])}`;
    default:
      return `${at} ${e.message ?? `fails ${e.keyword}`}`;
  }
}

/** The field a problem sentence is about, down to its top-level name: `include[2] must ...` -> `include`. */
function subject(problem: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*/.exec(problem)?.[0] ?? problem;
}

/**
 * The problems of a body: the hand-written checks' sentences (the precise ones) first, then the schema's about
 * fields those do not name (a field a precise sentence names keeps only that sentence; the body as a whole is
 * left to them). Either list alone when the other is empty.
 */
export function mergeProblems(precise: readonly string[], structural: readonly string[]): string[] {
  const explained = (problem: string): boolean => {
    // About the body as a whole: the precise checks said what is wrong with it.
    if (problem.startsWith('the body ')) return true;
    const word = new RegExp(
      `(^|[^A-Za-z0-9_])${subject(problem).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z0-9_]|$)`,
    );
    return precise.some((p) => word.test(p));
  };
  return [...precise, ...structural.filter((p) => !explained(p))];
}

/**
 * How deep the JSON text nests (objects and arrays): 0 for a scalar, 1 for `{}` or `[]`, +1 for each level inside.
 * Reads the raw bytes once, outside strings, before anything parses them; stops as soon as it passes `stopAbove`.
 */
export function jsonNestingDepth(text: Uint8Array, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
