/**
 * The JSON form of record values used by the golden fixtures (`schemas/<area>/fixtures/<Record>.v<N>.json`) and
 * by tools that print messages. Plain JSON cannot hold every Avro value exactly, so:
 *
 * | Avro                        | fixture JSON                                     |
 * | --------------------------- | ------------------------------------------------ |
 * | `long`                      | decimal string, e.g. `"7311999999999999999"`     |
 * | `long` + `timestamp-millis` | ISO-8601 string, e.g. `"2026-01-02T03:04:05.678Z"` |
 * | `bytes`                     | base64 string                                    |
 * | `["null", T]`               | `null` or the JSON form of T                     |
 * | others                      | as in JSON (records are objects with every field) |
 *
 * A fixture file is `{ "record": <full name>, "version": N, "fingerprint": <hex>, "description": ..., "value": ... }`.
 */
import type * as avro from 'avsc';

/** The content of a golden fixture file. */
export interface FixtureFile {
  /** Full name of the record, e.g. `tidemark.phases.PhaseChanged`. */
  readonly record: string;
  /** The schema version that wrote the value. */
  readonly version: number;
  /** CRC-64-AVRO fingerprint (hex) of that version; it changes if the schema is edited in place. */
  readonly fingerprint: string;
  /** What the sample shows. */
  readonly description: string;
  /** The value, in fixture JSON form. */
  readonly value: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface TypeView {
  readonly typeName: string;
  readonly types?: readonly avro.Type[];
  readonly itemsType?: avro.Type;
  readonly valuesType?: avro.Type;
  readonly fields?: readonly avro.types.Field[];
}

function fail(path: string, detail: string): never {
  throw new TypeError(`fixture value at ${path || '<root>'}: ${detail}`);
}

/** Converts fixture JSON to the runtime value of `type` (see the table above); strict about shapes. */
export function fromFixtureJson(type: avro.Type, json: unknown, path = ''): unknown {
  const t = type as unknown as TypeView;
  switch (t.typeName) {
    case 'abstract:long':
    case 'long':
      if (typeof json !== 'string' || !/^-?\d+$/.test(json)) fail(path, 'a long is a decimal string');
      return BigInt(json);
    case 'logical:timestamp-millis': {
      if (typeof json !== 'string') fail(path, 'a timestamp is an ISO-8601 string');
      const date = new Date(json);
      if (Number.isNaN(date.getTime())) fail(path, `invalid timestamp ${json}`);
      return date;
    }
    case 'bytes':
      if (typeof json !== 'string') fail(path, 'bytes are a base64 string');
      return Buffer.from(json, 'base64');
    case 'union:unwrapped': {
      if (json === null) return null;
      const branch = (t.types ?? []).find((b) => b.typeName !== 'null');
      if (branch === undefined) fail(path, 'union without a non-null branch');
      return fromFixtureJson(branch, json, path);
    }
    case 'array':
      if (!Array.isArray(json)) fail(path, 'expected an array');
      return json.map((item, i) => fromFixtureJson(t.itemsType as avro.Type, item, `${path}[${i}]`));
    case 'map': {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(path, 'expected an object');
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(json))
        out[k] = fromFixtureJson(t.valuesType as avro.Type, v, `${path}.${k}`);
      return out;
    }
    case 'record':
    case 'error': {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(path, 'expected an object');
      const obj = json as Record<string, unknown>;
      const fields = t.fields ?? [];
      const known = new Set(fields.map((f) => f.name));
      for (const key of Object.keys(obj))
        if (!known.has(key)) fail(`${path}.${key}`, 'not a field of the record');
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        if (!(f.name in obj)) fail(`${path}.${f.name}`, 'missing (fixtures list every field)');
        out[f.name] = fromFixtureJson(f.type, obj[f.name], path === '' ? f.name : `${path}.${f.name}`);
      }
      return out;
    }
    default:
      return json;
  }
}

/** The inverse of {@link fromFixtureJson}: a runtime value of `type` as fixture JSON. */
export function toFixtureJson(type: avro.Type, value: unknown): Json {
  const t = type as unknown as TypeView;
  switch (t.typeName) {
    case 'abstract:long':
    case 'long':
      return (value as bigint).toString();
    case 'logical:timestamp-millis':
      return (value as Date).toISOString();
    case 'bytes':
      return (value as Buffer).toString('base64');
    case 'union:unwrapped': {
      if (value === null) return null;
      const branch = (t.types ?? []).find((b) => b.typeName !== 'null') as avro.Type;
      return toFixtureJson(branch, value);
    }
    case 'array':
      return (value as unknown[]).map((item) => toFixtureJson(t.itemsType as avro.Type, item));
    case 'map':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          k,
          toFixtureJson(t.valuesType as avro.Type, v),
        ]),
      );
    case 'record':
    case 'error': {
      const obj = value as Record<string, unknown>;
      return Object.fromEntries((t.fields ?? []).map((f) => [f.name, toFixtureJson(f.type, obj[f.name])]));
    }
    default:
      return value as Json;
  }
}
