/**
 * The TypeScript types cannot drift from the schemas: types.ts is generated from them, this spec regenerates it
 * and fails on any difference, and the registry refuses to load schemas whose fingerprints differ from those
 * types.ts was generated from.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { PHASES } from '@tidemark/domain';
import { generateTypesFile, TYPES_FILE } from '../tools/gen-avro-types';
import { SchemaDefinitionError } from './bus-errors';
import { phaseFromAvro, phaseToAvro } from './phase-mapping';
import { readSchemaSources } from './schema-files';
import { assertMatchesGeneratedTypes, schemaRegistry, SchemaRegistry } from './schemas';
import { AVRO_PHASE_SYMBOLS, CURRENT_SCHEMAS, type RecordName } from './types';

describe('generated types', () => {
  it('types.ts is what the generator produces from the current schemas', async () => {
    const wanted = await generateTypesFile();
    const actual = fs.readFileSync(TYPES_FILE, 'utf8');
    assert.ok(
      actual === wanted,
      'types.ts is out of date: run node --import tsx libs/bus/tools/gen-avro-types.ts',
    );
  });

  it('the workspace schemas match the versions and fingerprints types.ts was generated from', () => {
    const registry = schemaRegistry();
    for (const [name, { version, fingerprint }] of Object.entries(CURRENT_SCHEMAS)) {
      const current = registry.record(name as RecordName).current;
      assert.equal(current.version, version);
      assert.equal(current.fingerprintHex, fingerprint);
    }
  });

  it('a registry with a changed schema is refused at load time', () => {
    const sources = readSchemaSources().map((s) =>
      s.record === 'tidemark.alerts.AlertRaised'
        ? {
            ...s,
            schema: {
              ...(s.schema as object),
              fields: [...(s.schema as { fields: unknown[] }).fields, { name: 'x', type: 'int', default: 0 }],
            },
          }
        : s,
    );
    assert.throws(
      () => assertMatchesGeneratedTypes(SchemaRegistry.fromSources(sources)),
      (err: unknown) => err instanceof SchemaDefinitionError && /regenerate types\.ts/.test(err.message),
    );
  });

  it('the Avro Phase enum lists the domain phases in the same order', () => {
    assert.deepEqual(AVRO_PHASE_SYMBOLS.map(phaseFromAvro), [...PHASES]);
    assert.deepEqual(PHASES.map(phaseToAvro), [...AVRO_PHASE_SYMBOLS]);
  });
});
