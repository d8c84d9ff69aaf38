/**
 * Schema evolution (docs/topics.md, "Evolution rules"), proven on the golden fixtures of every record:
 *
 * - backward, transitively: every version reads the golden fixture of every older version (fields both have keep
 *   their values, fields added later read as their defaults). The newest reader is the one that matters most: it
 *   is what every consumer resolves to.
 * - forward, as promised: every older version reads data of every newer version, except values that use an enum
 *   symbol appended after it (rule 4). The check trims the newer version's enums to the older one's symbols; with
 *   that, resolution must succeed, so a removed, renamed or re-typed field fails it even where enums were appended.
 *
 * Most records have one version so far, so the same check also runs on deliberately broken second versions of every
 * record (a field added without a default, re-typed, renamed or removed; an enum symbol removed) and must reject
 * each, next to two compatible changes it must accept: a future incompatible change cannot pass unnoticed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as avro from 'avsc';
import { buildAvroType } from './avro-type';
import { SchemaDefinitionError } from './bus-errors';
import { fromFixtureJson, toFixtureJson, type FixtureFile } from './fixture-json';
import { defaultSchemasDir, fixturePath, type SchemaSource } from './schema-files';
import { schemaRegistry, SchemaRegistry } from './schemas';
import type { RecordName } from './types';

/** One version of a record with its golden fixture (fixture JSON form, see fixture-json.ts). */
interface Evolved {
  readonly version: number;
  readonly schema: AvroRecordSchema;
  readonly type: avro.Type;
  readonly fixture: unknown;
}

interface AvroField {
  name: string;
  type: unknown;
  doc?: string;
  default?: unknown;
}
interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: AvroField[];
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every enum of `schema` (named or nested anywhere), by name. */
function enumsOf(schema: unknown, out = new Map<string, string[]>()): Map<string, string[]> {
  if (Array.isArray(schema)) schema.forEach((s) => enumsOf(s, out));
  else if (typeof schema === 'object' && schema !== null) {
    const s = schema as { type?: unknown; name?: string; symbols?: string[]; fields?: AvroField[] };
    if (s.type === 'enum' && s.name !== undefined && s.symbols !== undefined) out.set(s.name, s.symbols);
    for (const f of s.fields ?? []) enumsOf(f.type, out);
    for (const key of ['type', 'items', 'values'] as const) {
      const inner = (schema as Record<string, unknown>)[key];
      if (typeof inner === 'object') enumsOf(inner, out);
    }
  }
  return out;
}

/** `newer` with each enum cut back to `older`'s symbols where `older`'s are a prefix of it (appended symbols). */
function withoutAppendedSymbols(newer: unknown, older: unknown): unknown {
  const olderEnums = enumsOf(older);
  const walk = (schema: unknown): unknown => {
    if (Array.isArray(schema)) return schema.map(walk);
    if (typeof schema !== 'object' || schema === null) return schema;
    const s = { ...(schema as Record<string, unknown>) };
    if (s['type'] === 'enum') {
      const before = olderEnums.get(String(s['name']));
      const symbols = s['symbols'] as string[];
      if (before !== undefined && before.every((sym, i) => symbols[i] === sym)) s['symbols'] = before;
    }
    if (Array.isArray(s['fields']))
      s['fields'] = (s['fields'] as AvroField[]).map((f) => ({ ...f, type: walk(f.type) }));
    for (const key of ['type', 'items', 'values']) if (typeof s[key] === 'object') s[key] = walk(s[key]);
    return s;
  };
  return walk(newer);
}

interface TypeWithFields {
  readonly fields: readonly (avro.types.Field & { defaultValue(): unknown })[];
}

/** `reader` reads `writer`'s fixture: the problem, or undefined. Shared fields keep values, new ones read defaults. */
function readProblem(
  reader: Evolved,
  writer: Evolved,
  writerType: avro.Type,
  what: string,
): string | undefined {
  let resolver: avro.Resolver;
  try {
    resolver = reader.type.createResolver(writerType);
  } catch (err) {
    return `v${reader.version} cannot read v${writer.version}${what}: ${(err as Error).message}`;
  }
  const value = fromFixtureJson(writer.type, writer.fixture);
  if (!writerType.isValid(value)) return undefined; // uses a symbol appended after the reader: not promised
  let read: unknown;
  try {
    read = reader.type.fromBuffer(writerType.toBuffer(value), resolver);
  } catch (err) {
    return `v${reader.version} cannot decode the v${writer.version} fixture${what}: ${(err as Error).message}`;
  }
  const got = toFixtureJson(reader.type, read) as Record<string, unknown>;
  const written = writer.fixture as Record<string, unknown>;
  for (const field of (reader.type as unknown as TypeWithFields).fields) {
    const expected =
      field.name in written ? written[field.name] : toFixtureJson(field.type, field.defaultValue());
    if (JSON.stringify(got[field.name]) !== JSON.stringify(expected)) {
      return `v${reader.version} reads ${field.name} of the v${writer.version} fixture as ${JSON.stringify(got[field.name])}, expected ${JSON.stringify(expected)}`;
    }
  }
  return undefined;
}

/** Every broken promise between the versions of one record (oldest first); empty when they evolve compatibly. */
function evolutionProblems(versions: readonly Evolved[]): string[] {
  const problems: string[] = [];
  versions.forEach((older, i) => {
    for (const newer of versions.slice(i + 1)) {
      const backward = readProblem(newer, older, older.type, '');
      if (backward !== undefined) problems.push(`backward: ${backward}`);
      const trimmed = buildAvroType(withoutAppendedSymbols(newer.schema, older.schema));
      const forward = readProblem(older, newer, trimmed, ' (apart from appended enum symbols)');
      if (forward !== undefined) problems.push(`forward: ${forward}`);
    }
  });
  return problems;
}

const dir = defaultSchemasDir();
const registry = schemaRegistry();

function realVersions(name: RecordName): Evolved[] {
  return registry.record(name).versions.map((v) => {
    const fixture = JSON.parse(fs.readFileSync(fixturePath(dir, name, v.version), 'utf8')) as FixtureFile;
    return { version: v.version, schema: v.schema as AvroRecordSchema, type: v.type, fixture: fixture.value };
  });
}

/** A second version from `schema`: its fixture is the first one's, fitted to the new fields. */
function secondVersion(first: Evolved, schema: AvroRecordSchema): Evolved {
  const type = buildAvroType(schema);
  const old = first.fixture as Record<string, unknown>;
  const fixture: Record<string, unknown> = {};
  for (const field of (type as unknown as TypeWithFields).fields) {
    let value: unknown;
    if (field.name in old) {
      try {
        value = toFixtureJson(field.type, fromFixtureJson(field.type, old[field.name]));
      } catch {
        value = undefined; // re-typed: below
      }
    }
    if (value === undefined && field.name in old && field.type.isValid(old[field.name]))
      value = old[field.name];
    value ??= toFixtureJson(field.type, field.type.random());
    fixture[field.name] = value;
  }
  return { version: 2, schema, type, fixture };
}

type Change = (schema: AvroRecordSchema) => AvroRecordSchema | undefined;

const firstFieldWithoutDefault = (s: AvroRecordSchema) => s.fields.findIndex((f) => !('default' in f));

const INCOMPATIBLE: Record<string, { change: Change; rejected: RegExp; registryRefuses: boolean }> = {
  'adds a field without a default': {
    change: (s) => ({ ...s, fields: [...s.fields, { name: 'addedLater', type: 'string', doc: 'x' }] }),
    rejected: /^backward: v2 cannot read v1.*addedLater/,
    registryRefuses: true,
  },
  're-types a field (string -> long, or other -> string)': {
    change: (s) => {
      const i = firstFieldWithoutDefault(s);
      const fields = clone(s.fields);
      fields[i]!.type = fields[i]!.type === 'string' ? 'long' : 'string';
      return { ...s, fields };
    },
    rejected: /^backward: v2 cannot read v1/,
    registryRefuses: true,
  },
  'renames a field': {
    change: (s) => {
      const i = firstFieldWithoutDefault(s);
      const fields = clone(s.fields);
      fields[i]!.name = `${fields[i]!.name}Renamed`;
      return { ...s, fields };
    },
    rejected: /^backward: v2 cannot read v1/,
    registryRefuses: true,
  },
  'removes a field': {
    change: (s) => ({ ...s, fields: s.fields.filter((_, i) => i !== firstFieldWithoutDefault(s)) }),
    // Avro lets a newer reader skip a removed field, so the registry's start-up check passes it; the forward
    // check does not: an older reader has no value for it.
    rejected: /^forward: v1 cannot read v2/,
    registryRefuses: false,
  },
  'removes an enum symbol': {
    change: (s) => {
      const copy = clone(s);
      const target = [...enumsOf(copy).keys()][0];
      if (target === undefined) return undefined;
      const cut = (schema: unknown): void => {
        if (Array.isArray(schema)) return schema.forEach(cut);
        if (typeof schema !== 'object' || schema === null) return;
        const e = schema as { type?: unknown; name?: string; symbols?: string[]; fields?: AvroField[] };
        if (e.type === 'enum' && e.name === target) e.symbols = e.symbols!.slice(1);
        for (const f of e.fields ?? []) cut(f.type);
        for (const k of ['type', 'items', 'values'])
          if (typeof (schema as Record<string, unknown>)[k] === 'object')
            cut((schema as Record<string, unknown>)[k]);
      };
      cut(copy);
      return copy;
    },
    rejected: /^backward: v2 cannot read v1/,
    registryRefuses: true,
  },
};

const COMPATIBLE: Record<string, Change> = {
  'adds an optional field (default null)': (s) => ({
    ...s,
    fields: [...s.fields, { name: 'addedLater', type: ['null', 'string'], default: null, doc: 'x' }],
  }),
  'appends an enum symbol': (s) => {
    const copy = clone(s);
    const target = [...enumsOf(copy).keys()][0];
    if (target === undefined) return undefined;
    const append = (schema: unknown): void => {
      if (Array.isArray(schema)) return schema.forEach(append);
      if (typeof schema !== 'object' || schema === null) return;
      const e = schema as { type?: unknown; name?: string; symbols?: string[]; fields?: AvroField[] };
      if (e.type === 'enum' && e.name === target) e.symbols = [...e.symbols!, 'ADDED_LATER'];
      for (const f of e.fields ?? []) append(f.type);
      for (const k of ['type', 'items', 'values'])
        if (typeof (schema as Record<string, unknown>)[k] === 'object')
          append((schema as Record<string, unknown>)[k]);
    };
    append(copy);
    return copy;
  },
};

function sourcesOf(name: string, versions: readonly Evolved[]): SchemaSource[] {
  return versions.map((v, i) => ({
    record: name,
    version: v.version,
    current: i === versions.length - 1,
    schema: v.schema,
    origin: `${name} v${v.version} (test)`,
  }));
}

describe('schema evolution over the golden fixtures', () => {
  const names = registry.recordNames() as RecordName[];

  it('covers every record in schemas/', () => {
    assert.equal(names.length, 8);
  });

  for (const name of names) {
    it(`${name}: every version reads every older fixture, and older versions read newer ones as promised`, () => {
      const versions = realVersions(name);
      assert.ok(versions.length >= 1);
      assert.deepEqual(evolutionProblems(versions), []);
    });
  }

  it('JobCommand v1 does not read a v2 VERIFY_SNAPSHOT (an appended symbol: not promised, rule 4) but reads v2 otherwise', () => {
    const [v1, v2] = realVersions('tidemark.commands.JobCommand');
    assert.throws(() => v1!.type.createResolver(v2!.type), /cannot read/);
    const trimmed = buildAvroType(withoutAppendedSymbols(v2!.schema, v1!.schema));
    const start = { ...(v2!.fixture as Record<string, unknown>), action: 'START' };
    const read = v1!.type.fromBuffer(
      trimmed.toBuffer(fromFixtureJson(trimmed, start)),
      v1!.type.createResolver(trimmed),
    );
    assert.deepEqual(toFixtureJson(v1!.type, read), start);
  });

  describe('a deliberately incompatible second version of each record is rejected', () => {
    for (const name of names) {
      for (const [what, { change, rejected, registryRefuses }] of Object.entries(INCOMPATIBLE)) {
        const current = realVersions(name).at(-1)!;
        const schema = change(clone(current.schema));
        if (schema === undefined) continue; // no enum in this record
        it(`${name}: ${what}`, () => {
          const first = { ...current, version: 1 };
          const versions = [first, secondVersion(first, schema)];
          const problems = evolutionProblems(versions);
          assert.ok(
            problems.some((p) => rejected.test(p)),
            `expected a problem matching ${rejected}, got ${JSON.stringify(problems)}`,
          );
          const load = () => SchemaRegistry.fromSources(sourcesOf(name, versions));
          if (registryRefuses) assert.throws(load, SchemaDefinitionError);
          else assert.doesNotThrow(load);
        });
      }
    }
  });

  describe('a compatible second version of each record is accepted', () => {
    for (const name of names) {
      for (const [what, change] of Object.entries(COMPATIBLE)) {
        const current = realVersions(name).at(-1)!;
        const schema = change(clone(current.schema));
        if (schema === undefined) continue;
        it(`${name}: ${what}`, () => {
          const first = { ...current, version: 1 };
          const versions = [first, secondVersion(first, schema)];
          assert.deepEqual(evolutionProblems(versions), []);
          assert.doesNotThrow(() => SchemaRegistry.fromSources(sourcesOf(name, versions)));
        });
      }
    }
  });
});
