/**
 * Generates `types.ts` (TypeScript types for the record schemas) from the current schema versions. Used by
 * `libs/bus/tools/gen-avro-types.ts` and by the spec that proves `types.ts` is up to date; not part of the
 * library's runtime API. The value mapping is the one avro-type.ts implements (long → bigint, timestamp-millis →
 * Date, bytes → Buffer, ["null", T] → T | null). Other unions are rejected: Tidemark schemas do not use them.
 */
import { buildAvroType } from './avro-type';
import type * as avro from 'avsc';
import { SchemaDefinitionError } from './bus-errors';
import { crc64AvroOfString, fingerprintToHex, parsingCanonicalForm } from './rabin-fingerprint';
import type { SchemaSource } from './schema-files';

interface Named {
  readonly fullName: string;
  readonly shortName: string;
  readonly canonical: string;
  readonly code: string;
}

const PRIMITIVE_TS: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'bigint',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function docComment(doc: unknown, indent: string, extra: string[] = []): string {
  const lines = [...(typeof doc === 'string' && doc !== '' ? [doc] : []), ...extra].map((l) =>
    l.replace(/\*\//g, '*\\/'),
  );
  if (lines.length === 0) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

class Generator {
  private readonly named = new Map<string, Named>();
  private readonly shortNames = new Map<string, string>();
  private readonly order: string[] = [];
  /** The named avsc types of the schema being generated, by full name. */
  private types: Record<string, avro.Type> = {};

  constructor(private readonly origin: string) {}

  /** Builds the avsc type of the next schema to generate (whose named types `register` compares). */
  load(schema: unknown): avro.Type {
    this.types = {};
    return buildAvroType(schema, this.types);
  }

  private fail(detail: string): never {
    throw new SchemaDefinitionError(this.origin, detail);
  }

  private fullName(name: string, ns: string | undefined): string {
    return name.includes('.') || ns === undefined || ns === '' ? name : `${ns}.${name}`;
  }

  tsType(schema: unknown, ns: string | undefined): string {
    if (typeof schema === 'string') {
      const primitive = PRIMITIVE_TS[schema];
      if (primitive !== undefined) return primitive;
      const ref = this.named.get(this.fullName(schema, ns));
      if (ref === undefined) this.fail(`reference to undefined type ${schema}`);
      return ref.shortName;
    }
    if (Array.isArray(schema)) {
      const branches = schema as unknown[];
      const nonNull = branches.filter((b) => b !== 'null');
      if (branches.length !== 2 || nonNull.length !== 1) {
        this.fail(`only ["null", T] unions are supported, found ${JSON.stringify(schema)}`);
      }
      return `${this.tsType(nonNull[0], ns)} | null`;
    }
    if (typeof schema !== 'object' || schema === null) this.fail(`not a schema: ${JSON.stringify(schema)}`);
    const obj = schema as Record<string, unknown>;
    const type = obj['type'];
    if (typeof type !== 'string') return this.tsType(type, ns);
    if (type === 'long' && obj['logicalType'] === 'timestamp-millis') return 'Date';
    if (PRIMITIVE_TS[type] !== undefined) return PRIMITIVE_TS[type] as string;
    switch (type) {
      case 'array': {
        const items = this.tsType(obj['items'], ns);
        return items.includes(' ') ? `Array<${items}>` : `${items}[]`;
      }
      case 'map':
        return `Record<string, ${this.tsType(obj['values'], ns)}>`;
      case 'enum':
        return this.defineEnum(obj, ns);
      case 'record':
        return this.defineRecord(obj, ns);
      default:
        return this.fail(`unsupported type ${type}`);
    }
  }

  private register(fullName: string, shortName: string, code: () => string): string {
    const type = this.types[fullName];
    if (type === undefined) this.fail(`${fullName} is not a named type of the schema`);
    const canonical = parsingCanonicalForm(type);
    const existing = this.named.get(fullName);
    if (existing !== undefined) {
      if (existing.canonical !== canonical)
        this.fail(`${fullName} is defined twice with different definitions`);
      return existing.shortName;
    }
    const owner = this.shortNames.get(shortName);
    if (owner !== undefined && owner !== fullName)
      this.fail(`${fullName} and ${owner} share the TS name ${shortName}`);
    this.shortNames.set(shortName, fullName);
    // Register before generating the body so a recursive reference resolves.
    const entry: Named = { fullName, shortName, canonical, code: '' };
    this.named.set(fullName, entry);
    const generated = code();
    this.named.set(fullName, { ...entry, code: generated });
    if (!this.order.includes(fullName)) this.order.push(fullName);
    return shortName;
  }

  private defineEnum(obj: Record<string, unknown>, ns: string | undefined): string {
    const name = String(obj['name']);
    const fullName = this.fullName(name, typeof obj['namespace'] === 'string' ? obj['namespace'] : ns);
    // Prefixed: the domain library has its own (kebab-case) Phase, SliceKind, ... and both meet in adapters.
    const shortName = `Avro${fullName.slice(fullName.lastIndexOf('.') + 1)}`;
    return this.register(fullName, shortName, () => {
      const symbols = (obj['symbols'] as string[]).map((s) => `'${s}'`).join(', ');
      const constName = `${upperSnake(shortName)}_SYMBOLS`;
      return (
        `${docComment(`Symbols of enum ${fullName}, in schema order.`, '')}` +
        `export const ${constName} = [${symbols}] as const;\n\n` +
        `${docComment(obj['doc'], '', [`Avro enum \`${fullName}\`.`])}` +
        `export type ${shortName} = (typeof ${constName})[number];\n`
      );
    });
  }

  private defineRecord(obj: Record<string, unknown>, ns: string | undefined): string {
    const name = String(obj['name']);
    const fullName = this.fullName(name, typeof obj['namespace'] === 'string' ? obj['namespace'] : ns);
    const shortName = fullName.slice(fullName.lastIndexOf('.') + 1);
    const inner = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;
    return this.register(fullName, shortName, () => {
      const fields = (obj['fields'] as Record<string, unknown>[]).map((f) => {
        const extra =
          'default' in f ? [`Default for readers of older data: \`${JSON.stringify(f['default'])}\`.`] : [];
        return `${docComment(f['doc'], '  ', extra)}  ${String(f['name'])}: ${this.tsType(f['type'], inner)};\n`;
      });
      return `${docComment(obj['doc'], '', [`Avro record \`${fullName}\`.`])}export interface ${shortName} {\n${fields.join('')}}\n`;
    });
  }

  body(): string {
    return this.order.map((n) => (this.named.get(n) as Named).code).join('\n');
  }
}

/** The source text of `types.ts` for these schema sources (only current versions are used), unformatted. */
export function generateTypesSource(sources: readonly SchemaSource[]): string {
  const current = sources.filter((s) => s.current).sort((a, b) => a.record.localeCompare(b.record));
  const parts: string[] = [];
  const generator = new Generator('types');
  const records: { record: string; shortName: string; version: number; fingerprint: string }[] = [];
  for (const s of current) {
    const type = generator.load(s.schema);
    const shortName = generator.tsType(s.schema, undefined);
    records.push({
      record: s.record,
      shortName,
      version: s.version,
      fingerprint: fingerprintToHex(crc64AvroOfString(parsingCanonicalForm(type))),
    });
  }
  parts.push(
    '// GENERATED FILE, do not edit. Source: schemas/**/*.avsc (current versions).\n' +
      '// Regenerate with: node --import tsx libs/bus/tools/gen-avro-types.ts\n' +
      '// types.spec.ts fails when this file is out of date.\n' +
      '// Records keep their Avro names; enums are prefixed with Avro (their symbols are the wire values).\n\n',
  );
  parts.push(generator.body());
  parts.push(
    '\n/** Every record on the bus, by Avro full name. */\n' +
      `export interface RecordTypes {\n${records.map((r) => `  '${r.record}': ${r.shortName};\n`).join('')}}\n\n` +
      '/** Avro full name of a record on the bus. */\n' +
      'export type RecordName = keyof RecordTypes;\n\n' +
      "/** Version and CRC-64-AVRO fingerprint (hex) of each record's current schema when this file was generated. */\n" +
      'export const CURRENT_SCHEMAS: { readonly [N in RecordName]: { readonly version: number; readonly fingerprint: string } } = {\n' +
      records
        .map((r) => `  '${r.record}': { version: ${r.version}, fingerprint: '${r.fingerprint}' },\n`)
        .join('') +
      '};\n',
  );
  return parts.join('');
}
