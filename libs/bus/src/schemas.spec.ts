import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SchemaDefinitionError } from './bus-errors';
import { AvroCodec } from './codec';
import { readSchemaSources } from './schema-files';
import { schemaRegistry, SchemaRegistry } from './schemas';

describe('workspace schemas', () => {
  const registry = schemaRegistry();

  it('are the eight records of the design, one per file, namespace tidemark.<area>', () => {
    assert.deepEqual(registry.recordNames(), [
      'tidemark.alerts.AlertRaised',
      'tidemark.audit.AuditEvent',
      'tidemark.commands.JobCommand',
      'tidemark.phases.PhaseChanged',
      'tidemark.restores.RestoreEvent',
      'tidemark.slices.SliceProduced',
      'tidemark.slices.SliceStored',
      'tidemark.snapshots.SnapshotEvent',
    ]);
  });

  it('document every field (the .avsc is the reference for other implementations)', () => {
    for (const source of readSchemaSources()) {
      const walk = (schema: unknown, where: string): void => {
        if (Array.isArray(schema)) return schema.forEach((s) => walk(s, where));
        if (typeof schema !== 'object' || schema === null) return;
        const s = schema as {
          type?: unknown;
          fields?: { name: string; doc?: string; type: unknown }[];
          items?: unknown;
        };
        for (const f of s.fields ?? []) {
          assert.ok(typeof f.doc === 'string' && f.doc.length > 0, `${where}.${f.name} has no doc`);
          walk(f.type, `${where}.${f.name}`);
        }
        walk(s.items, where);
        if (typeof s.type === 'object') walk(s.type, where);
      };
      walk(source.schema, source.record);
    }
  });

  it('give every field added after version 1 a default (checked by loading; here: nullable fields default to null)', () => {
    for (const source of readSchemaSources()) {
      for (const f of (source.schema as { fields: { name: string; type: unknown; default?: unknown }[] })
        .fields) {
        if (Array.isArray(f.type) && f.type[0] === 'null')
          assert.equal(f.default, null, `${source.record}.${f.name}`);
      }
    }
  });
});

describe('schemas folder layout', () => {
  let dir: string;
  const v1 = {
    type: 'record',
    name: 'ThingHappened',
    namespace: 'tidemark.things',
    fields: [{ name: 'id', type: 'string' }],
  };
  const v2 = { ...v1, fields: [...v1.fields, { name: 'size', type: 'long', default: 0 }] };
  const write = (rel: string, content: unknown): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), JSON.stringify(content));
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-schemas-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('numbers history/<Record>.v<N>.avsc as N and the current file as the next version; old data reads as current', () => {
    write('things/ThingHappened.avsc', v2);
    write('things/history/ThingHappened.v1.avsc', v1);
    const sources = readSchemaSources(dir);
    assert.deepEqual(
      sources.map((s) => [s.record, s.version, s.current]),
      [
        ['tidemark.things.ThingHappened', 1, false],
        ['tidemark.things.ThingHappened', 2, true],
      ],
    );
    const registry = SchemaRegistry.fromSources<{
      'tidemark.things.ThingHappened': { id: string; size: bigint };
    }>(sources);
    const codec = new AvroCodec(registry);
    const oldBytes = codec.encodeVersion(registry.record('tidemark.things.ThingHappened').versions[0]!, {
      id: 'a',
    });
    const decoded = codec.decodeAs('tidemark.things.ThingHappened', oldBytes);
    assert.equal(decoded.id, 'a');
    assert.equal(decoded.size, 0n);
  });

  it('refuses a namespace that is not tidemark.<area>', () => {
    write('other/ThingHappened.avsc', v1);
    assert.throws(
      () => readSchemaSources(dir),
      (err: unknown) => err instanceof SchemaDefinitionError && /namespace/.test(err.message),
    );
    fs.rmSync(path.join(dir, 'other'), { recursive: true });
  });

  it('refuses a record whose name differs from its file', () => {
    write('things/Other.avsc', v1);
    assert.throws(
      () => readSchemaSources(dir),
      (err: unknown) => err instanceof SchemaDefinitionError && /file name/.test(err.message),
    );
    fs.rmSync(path.join(dir, 'things', 'Other.avsc'));
  });

  it('refuses history without a current file', () => {
    write('things/history/Gone.v1.avsc', { ...v1, name: 'Gone' });
    assert.throws(
      () => readSchemaSources(dir),
      (err: unknown) => err instanceof SchemaDefinitionError && /without a current/.test(err.message),
    );
    fs.rmSync(path.join(dir, 'things', 'history', 'Gone.v1.avsc'));
  });
});
