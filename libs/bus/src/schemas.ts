/**
 * The schema registry: every version of every record schema, with the avsc types to write and read them.
 *
 * Contract:
 * - each record has versions 1..N without gaps; version N is the *current* one, which writers use and which every
 *   reader resolves to;
 * - every version can be read by the current version (Avro schema resolution); otherwise loading fails, so an
 *   incompatible change never reaches a running process;
 * - every version has a distinct CRC-64-AVRO fingerprint of its Parsing Canonical Form, which is how a reader of
 *   single-object encoded bytes finds the writer's schema.
 *
 * `schemaRegistry()` loads the workspace's `schemas/` folder once and checks it against the generated TypeScript
 * types (`types.ts`), so code compiled against one set of schemas cannot run with another.
 */
import type * as avro from 'avsc';
import { buildAvroType } from './avro-type';
import { SchemaDefinitionError } from './bus-errors';
import { crc64AvroOfString, fingerprintToHex, parsingCanonicalForm } from './rabin-fingerprint';
import { defaultSchemasDir, readSchemaSources, type SchemaSource } from './schema-files';
import { CURRENT_SCHEMAS, type RecordTypes } from './types';

/** One version of a record schema, ready to use. */
export interface SchemaVersion {
  /** Full name, e.g. `tidemark.phases.PhaseChanged`. */
  readonly record: string;
  readonly version: number;
  readonly current: boolean;
  /** The schema as written in its `.avsc` file. */
  readonly schema: unknown;
  /** Parsing Canonical Form: what the fingerprint is computed over. */
  readonly canonicalForm: string;
  /** CRC-64-AVRO of the canonical form, unsigned. */
  readonly fingerprint: bigint;
  /** {@link fingerprint} as 16 lowercase hex digits. */
  readonly fingerprintHex: string;
  /** The avsc type that writes (and reads) exactly this version. */
  readonly type: avro.Type;
  /** Where the schema came from. */
  readonly origin: string;
}

/** All versions of one record. */
export interface RecordSchemas {
  readonly record: string;
  /** The version writers use and readers resolve to. */
  readonly current: SchemaVersion;
  /** Every version, oldest first (the last one is {@link current}). */
  readonly versions: readonly SchemaVersion[];
}

/** A writer version found by fingerprint, with the resolver that reads it as the current version. */
export interface WriterLookup {
  readonly writer: SchemaVersion;
  readonly reader: SchemaVersion;
  readonly resolver: avro.Resolver | undefined;
}

function toVersion(source: SchemaSource): SchemaVersion {
  let type: avro.Type;
  try {
    type = buildAvroType(source.schema);
  } catch (err) {
    throw new SchemaDefinitionError(source.origin, `invalid Avro schema: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const canonicalForm = parsingCanonicalForm(type);
  const fingerprint = crc64AvroOfString(canonicalForm);
  return {
    record: source.record,
    version: source.version,
    current: source.current,
    schema: source.schema,
    canonicalForm,
    fingerprint,
    fingerprintHex: fingerprintToHex(fingerprint),
    type,
    origin: source.origin,
  };
}

/**
 * Every known record schema version. `M` maps record full names to their TypeScript value types; it only types
 * the API (names you can ask for), the checks are done when the registry is built.
 */
export class SchemaRegistry<M extends object = RecordTypes> {
  private readonly byName: Map<string, RecordSchemas>;
  private readonly byFingerprint: Map<bigint, WriterLookup>;

  private constructor(records: Map<string, RecordSchemas>, writers: Map<bigint, WriterLookup>) {
    this.byName = records;
    this.byFingerprint = writers;
  }

  /** Builds a registry from schema sources; throws {@link SchemaDefinitionError} naming the first broken rule. */
  static fromSources<M extends object = RecordTypes>(sources: readonly SchemaSource[]): SchemaRegistry<M> {
    const grouped = new Map<string, SchemaSource[]>();
    for (const s of sources) grouped.set(s.record, [...(grouped.get(s.record) ?? []), s]);
    const records = new Map<string, RecordSchemas>();
    const writers = new Map<bigint, WriterLookup>();
    for (const [record, group] of [...grouped.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = [...group].sort((a, b) => a.version - b.version);
      sorted.forEach((s, index) => {
        if (s.version !== index + 1) {
          throw new SchemaDefinitionError(
            s.origin,
            `${record}: versions must be 1..N without gaps or repeats`,
          );
        }
      });
      const last = sorted[sorted.length - 1] as SchemaSource;
      const currents = sorted.filter((s) => s.current);
      if (currents.length !== 1 || !last.current) {
        throw new SchemaDefinitionError(
          last.origin,
          `${record}: exactly one current version, the highest, is required`,
        );
      }
      const versions = sorted.map(toVersion);
      const current = versions[versions.length - 1] as SchemaVersion;
      for (const writer of versions) {
        const clash = writers.get(writer.fingerprint);
        if (clash !== undefined) {
          throw new SchemaDefinitionError(
            writer.origin,
            `same fingerprint ${writer.fingerprintHex} as ${clash.writer.record} v${clash.writer.version}` +
              ' (identical canonical form: a change to docs or defaults only needs no new version)',
          );
        }
        let resolver: avro.Resolver | undefined;
        if (writer !== current) {
          try {
            resolver = current.type.createResolver(writer.type);
          } catch (err) {
            throw new SchemaDefinitionError(
              current.origin,
              `${record} v${current.version} cannot read v${writer.version}: ${(err as Error).message}`,
              { cause: err },
            );
          }
        }
        writers.set(writer.fingerprint, { writer, reader: current, resolver });
      }
      records.set(record, { record, current, versions });
    }
    return new SchemaRegistry<M>(records, writers);
  }

  /** Reads a schemas folder (see schema-files.ts for its layout). */
  static load<M extends object = RecordTypes>(dir: string = defaultSchemasDir()): SchemaRegistry<M> {
    return SchemaRegistry.fromSources<M>(readSchemaSources(dir));
  }

  /** Full names of all records, sorted. */
  recordNames(): string[] {
    return [...this.byName.keys()];
  }

  /** All versions of record `name`; throws {@link SchemaDefinitionError} for an unknown name. */
  record<N extends keyof M & string>(name: N): RecordSchemas {
    const found = this.byName.get(name);
    if (found === undefined) throw new SchemaDefinitionError('registry', `unknown record ${name}`);
    return found;
  }

  /** The writer version with this fingerprint (any record, any version), or undefined. */
  findWriter(fingerprint: bigint): WriterLookup | undefined {
    return this.byFingerprint.get(fingerprint);
  }
}

let defaultRegistry: SchemaRegistry | undefined;

/**
 * The workspace's schemas, loaded once. Throws {@link SchemaDefinitionError} if the folder's records, versions or
 * fingerprints differ from those `types.ts` was generated from (run `node --import tsx
 * libs/bus/tools/gen-avro-types.ts` after changing a schema).
 */
export function schemaRegistry(): SchemaRegistry {
  if (defaultRegistry === undefined) {
    const registry = SchemaRegistry.load();
    assertMatchesGeneratedTypes(registry);
    defaultRegistry = registry;
  }
  return defaultRegistry;
}

/** Checks that `registry` holds exactly the records, current versions and fingerprints of `types.ts`. */
export function assertMatchesGeneratedTypes(registry: SchemaRegistry): void {
  const expected = Object.entries(CURRENT_SCHEMAS) as [string, { version: number; fingerprint: string }][];
  const loaded = registry.recordNames();
  const names = expected.map(([name]) => name).sort();
  if (JSON.stringify(names) !== JSON.stringify(loaded)) {
    throw new SchemaDefinitionError(
      defaultSchemasDir(),
      `records ${loaded.join(', ')} differ from the generated types (${names.join(', ')}): regenerate types.ts`,
    );
  }
  for (const [name, { version, fingerprint }] of expected) {
    const current = registry.record(name as keyof RecordTypes).current;
    if (current.version !== version || current.fingerprintHex !== fingerprint) {
      throw new SchemaDefinitionError(
        current.origin,
        `${name} is v${current.version} (fingerprint ${current.fingerprintHex}) but types.ts was generated from ` +
          `v${version} (${fingerprint}): regenerate types.ts`,
      );
    }
  }
}
